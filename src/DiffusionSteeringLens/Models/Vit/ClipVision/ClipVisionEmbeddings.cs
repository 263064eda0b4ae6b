using DiffusionSteeringLens.Hooks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.ClipVision;

/// <summary>
/// CLIP patch + class + position embeddings (HF <c>CLIPVisionEmbeddings</c>): a bias-free strided conv turns the image
/// into patch tokens (row-major over the grid), the learned class token is prepended, then position rows are added.
/// Hooks: <c>hook_embed</c> (tokens before positions), <c>hook_pos_embed</c> (positions, batch-expanded).
/// </summary>
internal sealed class ClipVisionEmbeddings : nn.Module<Tensor, Tensor>
{
    // Field names are the checkpoint keys.
    private readonly Parameter class_embedding;
    private readonly Conv2d patch_embedding;
    private readonly Embedding position_embedding;
    private readonly HookPoint hook_embed;
    private readonly HookPoint hook_pos_embed;
    private readonly int _numPositions;

    /// <summary>Builds the embeddings on a device and dtype (META builds allocate nothing).</summary>
    public ClipVisionEmbeddings(ClipVisionConfig config, HookRuntime runtime, Device device, ScalarType dtype)
        : base(nameof(ClipVisionEmbeddings))
    {
        ArgumentNullException.ThrowIfNull(config);
        _numPositions = config.NumPositions;
        class_embedding = nn.Parameter(torch.zeros(config.HiddenSize, dtype: dtype, device: device));
        patch_embedding = nn.Conv2d(config.NumChannels, config.HiddenSize, config.PatchSize, stride: config.PatchSize,
            bias: false, device: device, dtype: dtype);
        position_embedding = nn.Embedding(config.NumPositions, config.HiddenSize, device: device, dtype: dtype);
        hook_embed = new HookPoint(HookNames.Embed, runtime);
        hook_pos_embed = new HookPoint(HookNames.PosEmbed, runtime);
        RegisterComponents();
    }

    /// <summary>Pixels [B, C, S, S] → token embeddings [B, T, D] (before <c>pre_layrnorm</c>).</summary>
    public override Tensor forward(Tensor pixelValues)
    {
        var patches = patch_embedding.call(pixelValues).flatten(2).transpose(1, 2); // [B, N, D]
        long b = patches.shape[0], d = patches.shape[2];
        var cls = class_embedding.view(1, 1, d).expand(b, 1, d);
        var tokens = hook_embed.call(torch.cat(new[] { cls, patches }, 1));
        // The position table as a [B, T, D] activation, so it can be hooked like any other term.
        var pos = hook_pos_embed.call(position_embedding.weight!.view(1, _numPositions, d).expand(b, _numPositions, d));
        return tokens + pos;
    }
}
