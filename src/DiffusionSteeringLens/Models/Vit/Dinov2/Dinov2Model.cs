using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Vit.HfLayout;
using DiffusionSteeringLens.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.Dinov2;

/// <summary>
/// Hugging Face <c>Dinov2Model</c> with TransformerLens-style hook points: layer scale after attention and MLP,
/// position embeddings bicubically interpolated to the input grid, plain or SwiGLU MLP per config. State-dict keys equal
/// the checkpoint's (<c>embeddings…</c>, <c>encoder.layer.{i}…</c>, <c>layernorm</c>).
/// </summary>
/// <remarks>
/// The output embedding is HF's <c>pooler_output</c> = the final LayerNorm of the CLS row [B, D]; the read-out is that
/// LayerNorm alone (DINOv2 has no projection), so P = D. <c>ln_pre</c> is the embeddings output (no pre-norm);
/// <c>ln_final</c> and <c>hook_image_embeds</c> both hold the normalised CLS. The model runs at one input resolution,
/// <see cref="VitArchitecture.ImageSize"/> (by default the config's <c>image_size</c>; pass the image processor's crop
/// size to run at the resolution the processor produces).
/// </remarks>
public sealed class Dinov2Model : HookedVitModel
{
    private readonly Dinov2Embeddings embeddings;
    private readonly HfEncoder encoder;
    private readonly LayerNorm layernorm;
    private readonly HookPoint hook_ln_pre;
    private readonly HookPoint hook_ln_final;
    private readonly HookPoint hook_image_embeds;
    private readonly Dinov2Layer[] _layers;

    /// <summary>Builds the model with uninitialised weights (on the META device nothing is allocated).</summary>
    /// <param name="config">The config.</param>
    /// <param name="device">Device of the weights (CPU by default).</param>
    /// <param name="dtype">Compute dtype.</param>
    /// <param name="inputSize">Input resolution (square, a multiple of the patch size); the config's <c>image_size</c> when null.</param>
    /// <exception cref="ArgumentException">An input size that is not a positive multiple of the patch size.</exception>
    public Dinov2Model(Dinov2Config config, torch.Device? device = null, ScalarType dtype = ScalarType.Float32, int? inputSize = null)
        : base(nameof(Dinov2Model), device, dtype)
    {
        ArgumentNullException.ThrowIfNull(config);
        int size = inputSize ?? config.ImageSize;
        if (size < config.PatchSize || size % config.PatchSize != 0)
            throw new ArgumentException($"input size {size} must be a positive multiple of patch_size {config.PatchSize}.", nameof(inputSize));
        Config = config;
        embeddings = new Dinov2Embeddings(config, Runtime, Device, dtype);
        _layers = Enumerable.Range(0, config.NumHiddenLayers).Select(i => new Dinov2Layer(config, i, Runtime, Device, dtype)).ToArray();
        encoder = new HfEncoder(_layers);
        layernorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: Device, dtype: dtype);
        hook_ln_pre = new HookPoint(HookNames.LnPre, Runtime);
        hook_ln_final = new HookPoint(HookNames.LnFinal, Runtime);
        hook_image_embeds = new HookPoint(HookNames.ImageEmbeds, Runtime);
        RegisterComponents();
        int side = size / config.PatchSize;
        CompleteSetup(new VitArchitecture("dinov2", config.NumHiddenLayers, config.NumAttentionHeads, config.HiddenSize, config.HeadDim,
            config.MlpHiddenSize, config.HiddenSize, side * side + 1, 0, size, config.NumChannels));
    }

    /// <summary>
    /// Loads a Hugging Face folder: <c>config.json</c> plus <c>model.safetensors</c> (or a sharded index). Every missing,
    /// unexpected or mis-shaped key is reported; floating checkpoints convert to the compute dtype.
    /// </summary>
    /// <param name="folder">The model folder.</param>
    /// <param name="options">Device and dtype.</param>
    /// <param name="inputSize">Input resolution; the config's <c>image_size</c> when null.</param>
    /// <exception cref="ConfigException">Bad config.json.</exception>
    /// <exception cref="StateDictMismatchException">The weights do not fit the config.</exception>
    public static Dinov2Model FromPretrained(string folder, ModelLoadOptions? options = null, int? inputSize = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= ModelLoadOptions.Default;
        var model = new Dinov2Model(Dinov2Config.Load(folder), torch.META, options.DType, inputSize);
        return LoadWeights(model, folder, new StateDictLoadOptions { ModuleName = "Dinov2Model" }, options.Device);
    }

    /// <summary>The config the model was built from.</summary>
    public Dinov2Config Config { get; }

    /// <summary>W_O of a layer [D, H·d] (unscaled; head results include λ₁). The live parameter: do not modify.</summary>
    public Tensor OutProjWeight(int layer) => _layers[layer].Attention.OutProjWeight;

    /// <summary>b_O of a layer [D] (unscaled). The live parameter: do not modify.</summary>
    public Tensor OutProjBias(int layer) => _layers[layer].Attention.OutProjBias;

    /// <summary>λ₁ of a layer [D]: the attention layer scale. The live parameter: do not modify.</summary>
    public Tensor AttentionLayerScale(int layer) => _layers[layer].AttentionScale;

    /// <summary>λ₂ of a layer [D]: the MLP layer scale. The live parameter: do not modify.</summary>
    public Tensor MlpLayerScale(int layer) => _layers[layer].MlpScale;

    /// <summary>The final LayerNorm over a whole sequence [B, T, D] (HF's <c>last_hidden_state</c> from the last resid_post).</summary>
    internal Tensor FinalNorm(Tensor hidden)
    {
        using var _ = no_grad();
        return layernorm.call(hidden.to(DType, Device));
    }

    /// <inheritdoc />
    protected override Tensor ReadoutCore(Tensor residual) => layernorm.call(residual);

    /// <inheritdoc />
    protected override LayerNorm ReadoutNorm => layernorm;

    /// <inheritdoc />
    protected override double ReadoutNormEps => Config.LayerNormEps;

    /// <inheritdoc />
    protected override Tensor ReadoutHead(Tensor normalised) => normalised;

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor pixelValues)
    {
        var hidden = encoder.call(hook_ln_pre.call(embeddings.call(pixelValues)));
        // Per-token LayerNorm: normalising the CLS row alone equals HF's layernorm(sequence)[:, 0].
        var pooled = hook_ln_final.call(layernorm.call(hidden.select(1, 0)));
        return hook_image_embeds.call(pooled);
    }
}
