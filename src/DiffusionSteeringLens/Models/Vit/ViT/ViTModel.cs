using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit.HfLayout;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.ViT;

/// <summary>
/// HF <c>ViTModel</c> without pooler (the <c>vit.</c> prefix of <c>ViTForImageClassification</c>): embeddings (hook
/// <c>ln_pre</c> = the residual entering layer 0; ViT has no pre-norm) → blocks. The final <c>layernorm</c> is applied
/// by the owner.
/// </summary>
internal sealed class ViTModel : nn.Module<Tensor, Tensor>
{
    private readonly ViTEmbeddings embeddings;
    private readonly HfEncoder encoder;
    private readonly LayerNorm layernorm;
    private readonly HookPoint hook_ln_pre;
    private readonly ViTLayer[] _layers;

    public ViTModel(VitConfig config, HookRuntime runtime, Device device, ScalarType dtype) : base(nameof(ViTModel))
    {
        embeddings = new ViTEmbeddings(config, runtime, device, dtype);
        _layers = Enumerable.Range(0, config.NumHiddenLayers).Select(i => new ViTLayer(config, i, runtime, device, dtype)).ToArray();
        encoder = new HfEncoder(_layers);
        layernorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        hook_ln_pre = new HookPoint(HookNames.LnPre, runtime);
        RegisterComponents();
    }

    public IReadOnlyList<ViTLayer> Layers => _layers;

    public LayerNorm FinalLayerNorm => layernorm;

    /// <summary>Pixels [B, C, S, S] → last hidden state before the final norm [B, T, D].</summary>
    public override Tensor forward(Tensor pixelValues) => encoder.call(hook_ln_pre.call(embeddings.call(pixelValues)));
}
