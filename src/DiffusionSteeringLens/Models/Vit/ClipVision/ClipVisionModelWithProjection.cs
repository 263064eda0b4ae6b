using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.ClipVision;

/// <summary>
/// Hugging Face <c>CLIPVisionModelWithProjection</c> with TransformerLens-style hook points: the Kandinsky 2.2 image
/// encoder (ViT-bigG/14) and any CLIP vision tower in HF layout. State-dict keys equal the checkpoint's.
/// </summary>
/// <remarks>
/// Every entry point except <see cref="ForwardTrainable"/> runs without autograd, inside its own dispose scope;
/// returned tensors are owned by the caller.
/// Output: <c>image_embeds</c> = visual_projection(post_layernorm(last_hidden_state[:, 0])), not L2-normalised.
/// </remarks>
public sealed class ClipVisionModelWithProjection : HookedVitModel
{
    private readonly ClipVisionTransformer vision_model;
    private readonly Linear visual_projection;
    private readonly HookPoint hook_ln_final;
    private readonly HookPoint hook_image_embeds;

    /// <summary>
    /// Builds the model with uninitialised weights on <paramref name="device"/> in <paramref name="dtype"/>; on the META
    /// device nothing is allocated (shape checks of full-size models).
    /// </summary>
    public ClipVisionModelWithProjection(ClipVisionConfig config, torch.Device? device = null, ScalarType dtype = ScalarType.Float32)
        : base(nameof(ClipVisionModelWithProjection), device, dtype)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        vision_model = new ClipVisionTransformer(config, Runtime, Device, dtype);
        visual_projection = nn.Linear(config.HiddenSize, config.ProjectionDim, hasBias: false, device: Device, dtype: dtype);
        hook_ln_final = new HookPoint(HookNames.LnFinal, Runtime);
        hook_image_embeds = new HookPoint(HookNames.ImageEmbeds, Runtime);
        RegisterComponents();
        CompleteSetup(new VitArchitecture("clip_vision", config.NumHiddenLayers, config.NumAttentionHeads, config.HiddenSize,
            config.HeadDim, config.IntermediateSize, config.ProjectionDim, config.NumPositions, 0, config.ImageSize, config.NumChannels));
    }

    /// <summary>
    /// Loads a Hugging Face model folder: <c>config.json</c> plus <c>model.safetensors</c> (or a sharded index). Keys are
    /// checked strictly (the legacy <c>position_ids</c> buffer is ignored); any floating checkpoint dtype is converted to
    /// the compute dtype.
    /// </summary>
    /// <exception cref="ConfigException">Bad config.json.</exception>
    /// <exception cref="StateDictMismatchException">The weights do not fit the config.</exception>
    public static ClipVisionModelWithProjection FromPretrained(string folder, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= ModelLoadOptions.Default;
        var config = ClipVisionConfig.Load(folder);
        var model = new ClipVisionModelWithProjection(config, torch.META, options.DType);
        return LoadWeights(model, folder, new StateDictLoadOptions
            {
                IgnoreUnexpected = new[] { "vision_model.embeddings.position_ids" },
                ModuleName = "CLIPVisionModelWithProjection",
            }, options.Device);
    }

    /// <summary>The config the model was built from.</summary>
    public ClipVisionConfig Config { get; }

    /// <summary>The blocks in order.</summary>
    internal IReadOnlyList<ClipEncoderLayer> Layers => vision_model.Layers;

    /// <summary>W_O of a layer [D, H·d]: head h's write is z_h · W_O[:, h·d:(h+1)·d]ᵀ. The live parameter: do not modify.</summary>
    public Tensor OutProjWeight(int layer) => vision_model.Layers[layer].Attention.OutProjWeight;

    /// <summary>b_O of a layer [D]. The live parameter: do not modify.</summary>
    public Tensor OutProjBias(int layer) => vision_model.Layers[layer].Attention.OutProjBias;

    /// <summary>Read-out LayerNorm weight [D] (<c>post_layernorm</c>). The live parameter: do not modify.</summary>
    public Tensor PostLayerNormWeight => vision_model.PostLayerNorm.weight!;

    /// <summary>Read-out LayerNorm bias [D]. The live parameter: do not modify.</summary>
    public Tensor PostLayerNormBias => vision_model.PostLayerNorm.bias!;

    /// <summary>Read-out LayerNorm epsilon.</summary>
    public double PostLayerNormEps => Config.LayerNormEps;

    /// <summary>Read-out projection [P, D] (<c>visual_projection.weight</c>, no bias). The live parameter: do not modify.</summary>
    public Tensor VisualProjectionWeight => visual_projection.weight!;

    /// <summary>
    /// The plain forward (no hooks, no cache) in the ambient grad mode, for training: gradients flow to the parameters.
    /// Unlike every other entry point it opens no dispose scope: the caller owns the result and the autograd graph.
    /// </summary>
    /// <param name="pixelValues">Normalised pixels [B, C, S, S] in <see cref="HookedVitModel.DType"/> on <see cref="HookedVitModel.Device"/>.</param>
    /// <param name="hooks">Optional hook functions for this forward, in the ambient grad mode too: a training objective
    /// can read an attention pattern or mask a head's <c>z</c> (the testbed's planted roles do both). Null = none.</param>
    /// <returns><c>image_embeds</c> [B, ProjectionDim].</returns>
    /// <exception cref="ArgumentException">Bad pixel shape.</exception>
    public Tensor ForwardTrainable(Tensor pixelValues, IReadOnlyList<HookBinding>? hooks = null)
    {
        ValidatePixels(pixelValues);
        // A run without bindings makes every hook point a pass-through, even inside an outer hooked run.
        using var state = hooks is { Count: > 0 } ? new HookRunState(hooks, null, null, Device) : null;
        using var run = Runtime.Begin(state);
        var hidden = vision_model.call(pixelValues.to(DType, Device));
        return visual_projection.call(vision_model.PostLayerNorm.call(hidden.select(1, 0)));
    }

    /// <summary>
    /// The "negative" embedding Kandinsky's prior builds: the output for an all-zeros pixel tensor [1, C, S, S]
    /// (zeros after normalisation). Shape [1, P]. Same as <see cref="KandinskyNegativeEmbedding.ZeroImageEmbedding"/>.
    /// </summary>
    public Tensor ZeroImageEmbedding() => KandinskyNegativeEmbedding.ZeroImageEmbedding(this);

    /// <inheritdoc />
    protected override Tensor ReadoutCore(Tensor residual) => visual_projection.call(vision_model.PostLayerNorm.call(residual));

    /// <inheritdoc />
    protected override LayerNorm ReadoutNorm => vision_model.PostLayerNorm;

    /// <inheritdoc />
    protected override double ReadoutNormEps => Config.LayerNormEps;

    /// <inheritdoc />
    protected override Tensor ReadoutHead(Tensor normalised) => visual_projection.call(normalised);

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor pixelValues)
    {
        var hidden = vision_model.call(pixelValues);
        var pooled = hook_ln_final.call(vision_model.PostLayerNorm.call(hidden.select(1, 0)));
        return hook_image_embeds.call(visual_projection.call(pooled));
    }
}
