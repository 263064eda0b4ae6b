using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.IO.Configs;
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
public sealed class ClipVisionModelWithProjection : nn.Module<Tensor, Tensor>, IHookedVit
{
    private readonly ClipVisionTransformer vision_model;
    private readonly Linear visual_projection;
    private readonly HookPoint hook_ln_final;
    private readonly HookPoint hook_image_embeds;
    private readonly HookRuntime _runtime;
    private readonly string[] _hookNames;
    private readonly HashSet<string> _hookNameSet;
    private readonly torch.Device _device;

    /// <summary>
    /// Builds the model with uninitialised weights on <paramref name="device"/> in <paramref name="dtype"/>; on the META
    /// device nothing is allocated (shape checks of full-size models).
    /// </summary>
    public ClipVisionModelWithProjection(ClipVisionConfig config, torch.Device? device = null, ScalarType dtype = ScalarType.Float32)
        : base(nameof(ClipVisionModelWithProjection))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _device = device ?? torch.CPU;
        DType = dtype;
        _runtime = new HookRuntime();
        vision_model = new ClipVisionTransformer(config, _runtime, _device, dtype);
        visual_projection = nn.Linear(config.HiddenSize, config.ProjectionDim, hasBias: false, device: _device, dtype: dtype);
        hook_ln_final = new HookPoint(HookNames.LnFinal, _runtime, null);
        hook_image_embeds = new HookPoint(HookNames.ImageEmbeds, _runtime, null);
        RegisterComponents();
        Architecture = new VitArchitecture("clip_vision", config.NumHiddenLayers, config.NumAttentionHeads, config.HiddenSize,
            config.HeadDim, config.IntermediateSize, config.ProjectionDim, config.NumPositions, 0, config.ImageSize);
        _hookNames = modules().OfType<HookPoint>().Select(h => h.HookName).ToArray();
        _hookNameSet = new HashSet<string>(_hookNames, StringComparer.Ordinal);
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
        var model = new ClipVisionModelWithProjection(config, options.Device, options.DType);
        try
        {
            using var source = CheckpointLocator.Open(folder, "model");
            StateDictLoader.Load(model, source, new StateDictLoadOptions
            {
                IgnoreUnexpected = new[] { "vision_model.embeddings.position_ids" },
                ModuleName = "CLIPVisionModelWithProjection",
            });
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The config the model was built from.</summary>
    public ClipVisionConfig Config { get; }

    /// <inheritdoc />
    public VitArchitecture Architecture { get; }

    /// <inheritdoc />
    public torch.Device Device => _device;

    /// <inheritdoc />
    public ScalarType DType { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> HookPointNames => _hookNames;

    /// <summary>The blocks in order.</summary>
    public IReadOnlyList<ClipEncoderLayer> Layers => vision_model.Layers;

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

    /// <summary>Module-style forward: same as <see cref="Forward"/>.</summary>
    public override Tensor forward(Tensor pixelValues) => Forward(pixelValues);

    /// <inheritdoc />
    public Tensor Forward(Tensor pixelValues) => Execute(pixelValues, null);

    /// <summary>
    /// The plain forward (no hooks, no cache) in the ambient grad mode, for training: gradients flow to the parameters.
    /// Unlike every other entry point it opens no dispose scope: the caller owns the result and the autograd graph.
    /// </summary>
    /// <param name="pixelValues">Normalised pixels [B, C, S, S] in <see cref="DType"/> on <see cref="Device"/>.</param>
    /// <returns><c>image_embeds</c> [B, ProjectionDim].</returns>
    /// <exception cref="ArgumentException">Bad pixel shape.</exception>
    public Tensor ForwardTrainable(Tensor pixelValues)
    {
        ValidatePixels(pixelValues);
        // A run without state makes every hook point a pass-through, even inside an outer hooked run.
        using var run = _runtime.Begin(null);
        var hidden = vision_model.call(pixelValues.to(DType, _device));
        return visual_projection.call(vision_model.PostLayerNorm.call(hidden.select(1, 0)));
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Bad pixel shape, unknown hook name or position out of range.</exception>
    public VitRun RunWithCache(Tensor pixelValues, CacheRequest request, IReadOnlyList<HookBinding>? hooks = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ValidatePixels(pixelValues);
        ValidateBindings(hooks);
        if (request.Positions is { } positions)
            foreach (var p in positions)
                if (p < 0 || p >= Architecture.NumTokens)
                    throw new ArgumentOutOfRangeException(nameof(request), $"Cache position {p} is outside [0, {Architecture.NumTokens}).");
        var cache = new ActivationCache(Architecture, request.Positions);
        try
        {
            using var state = new HookRunState(hooks, cache, request, _device);
            var output = Execute(pixelValues, state);
            return new VitRun(output, cache);
        }
        catch
        {
            cache.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Bad pixel shape or unknown hook name.</exception>
    public Tensor RunWithHooks(Tensor pixelValues, IReadOnlyList<HookBinding> hooks)
    {
        ArgumentNullException.ThrowIfNull(hooks);
        ValidateBindings(hooks);
        using var state = new HookRunState(hooks, null, null, _device);
        return Execute(pixelValues, state);
    }

    /// <inheritdoc />
    public Tensor Readout(Tensor residual)
    {
        ArgumentNullException.ThrowIfNull(residual);
        if (residual.dim() == 0 || residual.shape[^1] != Architecture.ModelDim)
            throw new ArgumentException(
                $"Read-out expects a last axis of {Architecture.ModelDim}; got shape [{string.Join(", ", residual.shape)}].", nameof(residual));
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = residual.to(DType, _device);
        return visual_projection.call(vision_model.PostLayerNorm.call(x)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor ZeroImageEmbedding()
    {
        using var zeros = torch.zeros(1, Config.NumChannels, Config.ImageSize, Config.ImageSize, dtype: DType, device: _device);
        return Forward(zeros);
    }

    private Tensor Execute(Tensor pixelValues, HookRunState? state)
    {
        ValidatePixels(pixelValues);
        using var _ = no_grad();
        // Begin even without a state, so a plain call never sees an outer run's hooks.
        using var run = _runtime.Begin(state);
        using var scope = NewDisposeScope();
        var x = pixelValues.to(DType, _device);
        var hidden = vision_model.call(x);
        var pooled = hook_ln_final.call(vision_model.PostLayerNorm.call(hidden.select(1, 0)));
        var embeds = hook_image_embeds.call(visual_projection.call(pooled));
        // A hook may hand back a tensor it owns: copy so the caller always owns the output.
        if (scope.Contains(embeds)) return embeds.MoveToOuterDisposeScope();
        return embeds.clone().MoveToOuterDisposeScope();
    }

    private void ValidatePixels(Tensor pixelValues)
    {
        ArgumentNullException.ThrowIfNull(pixelValues);
        var s = pixelValues.shape;
        if (s.Length != 4 || s[0] < 1 || s[1] != Config.NumChannels || s[2] != Config.ImageSize || s[3] != Config.ImageSize)
            throw new ArgumentException(
                $"pixelValues has shape [{string.Join(", ", s)}]; expected [B, {Config.NumChannels}, {Config.ImageSize}, {Config.ImageSize}] " +
                "(preprocessed, normalised pixels).", nameof(pixelValues));
    }

    private void ValidateBindings(IReadOnlyList<HookBinding>? hooks)
    {
        if (hooks is null) return;
        foreach (var h in hooks)
        {
            ArgumentNullException.ThrowIfNull(h, nameof(hooks));
            if (!_hookNameSet.Contains(h.HookName))
                throw new ArgumentException($"Unknown hook point '{h.HookName}'. See HookPointNames for the {_hookNames.Length} valid names.", nameof(hooks));
        }
    }
}
