using DiffusionSteeringLens.Hooks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.ClipVision;

/// <summary>
/// HF <c>CLIPVisionTransformer</c>: embeddings → <c>pre_layrnorm</c> (HF's spelling; hook <c>ln_pre</c>) → blocks.
/// Returns the last hidden state [B, T, D]; <c>post_layernorm</c> is applied by the owner to the CLS row only.
/// </summary>
internal sealed class ClipVisionTransformer : nn.Module<Tensor, Tensor>
{
    private readonly ClipVisionEmbeddings embeddings;
    private readonly LayerNorm pre_layrnorm;
    private readonly ClipEncoder encoder;
    private readonly LayerNorm post_layernorm;
    private readonly HookPoint hook_ln_pre;

    /// <summary>Builds the vision tower.</summary>
    public ClipVisionTransformer(ClipVisionConfig config, HookRuntime runtime, Device device, ScalarType dtype)
        : base(nameof(ClipVisionTransformer))
    {
        ArgumentNullException.ThrowIfNull(config);
        embeddings = new ClipVisionEmbeddings(config, runtime, device, dtype);
        pre_layrnorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        encoder = new ClipEncoder(config, runtime, device, dtype);
        post_layernorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        hook_ln_pre = new HookPoint(HookNames.LnPre, runtime);
        RegisterComponents();
    }

    /// <summary>The blocks.</summary>
    public IReadOnlyList<ClipEncoderLayer> Layers => encoder.Layers;

    /// <summary>The final LayerNorm (read-out's first step).</summary>
    public LayerNorm PostLayerNorm => post_layernorm;

    /// <summary>Pixels [B, C, S, S] → last hidden state [B, T, D].</summary>
    public override Tensor forward(Tensor pixelValues)
    {
        var h = hook_ln_pre.call(pre_layrnorm.call(embeddings.call(pixelValues)));
        return encoder.call(h);
    }
}
