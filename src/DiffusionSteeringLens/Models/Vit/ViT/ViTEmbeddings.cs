using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit.HfLayout;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.ViT;

/// <summary>
/// HF <c>ViTEmbeddings</c> (no position interpolation): patch tokens with the learned <c>cls_token</c> prepended, plus
/// the <c>position_embeddings</c> table. Hooks <c>hook_embed</c> (tokens) and <c>hook_pos_embed</c> (positions, batch-expanded).
/// </summary>
internal sealed class ViTEmbeddings : nn.Module<Tensor, Tensor>
{
    // Field names are the checkpoint keys.
    private readonly Parameter cls_token;
    private readonly Parameter position_embeddings;
    private readonly HfPatchEmbeddings patch_embeddings;
    private readonly HookPoint hook_embed;
    private readonly HookPoint hook_pos_embed;

    public ViTEmbeddings(VitConfig config, HookRuntime runtime, Device device, ScalarType dtype) : base(nameof(ViTEmbeddings))
    {
        cls_token = nn.Parameter(torch.zeros(1, 1, config.HiddenSize, dtype: dtype, device: device));
        position_embeddings = nn.Parameter(torch.zeros(1, config.NumPositions, config.HiddenSize, dtype: dtype, device: device));
        patch_embeddings = new HfPatchEmbeddings(config.NumChannels, config.HiddenSize, config.PatchSize, device, dtype);
        hook_embed = new HookPoint(HookNames.Embed, runtime);
        hook_pos_embed = new HookPoint(HookNames.PosEmbed, runtime);
        RegisterComponents();
    }

    /// <summary>Pixels [B, C, S, S] → embeddings [B, T, D] (the residual stream entering layer 0).</summary>
    public override Tensor forward(Tensor pixelValues)
    {
        var patches = patch_embeddings.call(pixelValues);
        long b = patches.shape[0];
        var tokens = hook_embed.call(torch.cat(new[] { cls_token.expand(b, -1, -1), patches }, 1));
        return tokens + hook_pos_embed.call(position_embeddings.expand(b, -1, -1));
    }
}
