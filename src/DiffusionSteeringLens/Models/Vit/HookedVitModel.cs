using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.IO;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit;

/// <summary>
/// The reusable base of every hooked encoder family (the role TransformerLens's <c>HookedRootModule</c> plays): it owns the
/// run state that the family's <see cref="HookPoint"/>s share, validates inputs and hook names, and turns
/// a family's plain forward into <see cref="Forward"/>, <see cref="RunWithCache"/> and <see cref="RunWithHooks"/>
/// (per-run bindings, caching, position filters, on-demand points), a batched <see cref="Readout"/> and its
/// frozen-LayerNorm variant.
/// </summary>
/// <remarks>
/// A family builds its modules with a <see cref="HookPoint"/> at every site (<c>new HookPoint(name)</c>), calls
/// <c>RegisterComponents()</c>, then <see cref="CompleteSetup"/>, which binds every point to this model's run state; it implements <see cref="ForwardCore"/> (pixels → output embedding, calling its hook
/// points through <c>.call</c>), <see cref="ReadoutCore"/>, and the read-out's parts — <see cref="ReadoutNorm"/>,
/// <see cref="ReadoutNormEps"/>, <see cref="ReadoutHead"/> — from which the base builds <see cref="ReadoutFrozen"/>
/// without the lenses knowing the family. Every entry point runs without autograd inside its own
/// dispose scope; returned tensors are owned by the caller.
/// </remarks>
public abstract class HookedVitModel : nn.Module<Tensor, Tensor>, IHookedVit
{
    private torch.Device _device; // set once more when a model built on meta gets its parameters (LoadWeights)
    private string[] _hookNames = Array.Empty<string>();
    private HashSet<string> _hookNameSet = new(StringComparer.Ordinal);
    private VitArchitecture? _architecture;

    /// <summary>Starts a family's model on a device and compute dtype.</summary>
    protected HookedVitModel(string name, torch.Device? device, ScalarType dtype) : base(name)
    {
        _device = device ?? torch.CPU;
        DType = dtype;
        Runtime = new HookRuntime();
    }

    /// <summary>The run state every hook point of this model reads (the library's own families pass it to their blocks).</summary>
    private protected HookRuntime Runtime { get; }

    /// <inheritdoc />
    public VitArchitecture Architecture =>
        _architecture ?? throw new InvalidOperationException($"{GetType().Name} did not call CompleteSetup in its constructor.");

    /// <inheritdoc />
    public torch.Device Device => _device;

    /// <inheritdoc />
    public ScalarType DType { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> HookPointNames => _hookNames;

    /// <summary>
    /// Records the shape facts, collects every registered <see cref="HookPoint"/> (after <c>RegisterComponents()</c>) and
    /// binds it to this model's run state.
    /// </summary>
    protected void CompleteSetup(VitArchitecture architecture)
    {
        _architecture = architecture ?? throw new ArgumentNullException(nameof(architecture));
        var points = modules().OfType<HookPoint>().ToArray();
        foreach (var point in points) point.Bind(Runtime);
        _hookNames = points.Select(h => h.HookName).ToArray();
        _hookNameSet = new HashSet<string>(_hookNames, StringComparer.Ordinal);
    }

    /// <summary>
    /// The family's forward: validated pixels [B, C, S, S] already in <see cref="DType"/> on <see cref="Device"/> → output
    /// embedding [B, P]. Runs inside the entry point's dispose scope and hook run.
    /// </summary>
    protected abstract Tensor ForwardCore(Tensor pixelValues);

    /// <summary>The read-out on [..., D] (in <see cref="DType"/> on <see cref="Device"/>) → [..., P].</summary>
    protected abstract Tensor ReadoutCore(Tensor residual);

    /// <summary>The read-out's final LayerNorm (its weight and bias; <see cref="ReadoutNormEps"/> is its ε).</summary>
    protected abstract LayerNorm ReadoutNorm { get; }

    /// <summary>ε of <see cref="ReadoutNorm"/> (from the family's config).</summary>
    protected abstract double ReadoutNormEps { get; }

    /// <summary>The part of the read-out after the final LayerNorm: [..., D] → [..., P] (identity when there is none).</summary>
    protected abstract Tensor ReadoutHead(Tensor normalised);

    /// <summary>Module-style forward: same as <see cref="Forward"/>.</summary>
    public override Tensor forward(Tensor pixelValues) => Forward(pixelValues);

    /// <inheritdoc />
    public Tensor Forward(Tensor pixelValues) => Execute(pixelValues, null);

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
        CheckResidual(residual);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return ReadoutCore(residual.to(DType, _device)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor ReadoutScale(Tensor residual)
    {
        CheckResidual(residual);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = residual.to(DType, _device);
        return (x.var(-1, unbiased: false, keepdim: true) + ReadoutNormEps).sqrt().MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Bad residual shape, or a scale without a last axis of 1 and the residual's number of axes.</exception>
    public Tensor ReadoutFrozen(Tensor residual, Tensor scale)
    {
        CheckResidual(residual);
        ArgumentNullException.ThrowIfNull(scale);
        if (scale.dim() != residual.dim() || scale.shape[^1] != 1)
            throw new ArgumentException(
                $"The frozen read-out's scale must be [..., 1] with the residual's {residual.dim()} axes; got scale [{string.Join(", ", scale.shape)}] " +
                $"for residual [{string.Join(", ", residual.shape)}].", nameof(scale));
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = residual.to(DType, _device);
        var norm = ReadoutNorm;
        // The families build their final LayerNorm with an affine weight and bias (as HF does).
        var weight = norm.weight ?? throw new InvalidOperationException($"{GetType().Name}: the read-out LayerNorm has no weight.");
        var bias = norm.bias ?? throw new InvalidOperationException($"{GetType().Name}: the read-out LayerNorm has no bias.");
        // Centring is linear; only the division by the residual's own scale makes LayerNorm non-linear, so it is frozen.
        var normalised = (x - x.mean(new long[] { -1 }, keepdim: true)) / scale.to(DType, _device) * weight + bias;
        return ReadoutHead(normalised).MoveToOuterDisposeScope();
    }

    private void CheckResidual(Tensor residual)
    {
        ArgumentNullException.ThrowIfNull(residual);
        if (residual.dim() == 0 || residual.shape[^1] != Architecture.ModelDim)
            throw new ArgumentException(
                $"Read-out expects a last axis of {Architecture.ModelDim}; got shape [{string.Join(", ", residual.shape)}].", nameof(residual));
    }

    /// <summary>Checks a pixel batch against <see cref="Architecture"/>: [B ≥ 1, C, S, S].</summary>
    /// <exception cref="ArgumentException">Any other shape; the message gives both.</exception>
    protected void ValidatePixels(Tensor pixelValues)
    {
        ArgumentNullException.ThrowIfNull(pixelValues);
        var a = Architecture;
        var s = pixelValues.shape;
        if (s.Length != 4 || s[0] < 1 || s[1] != a.NumChannels || s[2] != a.ImageSize || s[3] != a.ImageSize)
            throw new ArgumentException(
                $"pixelValues has shape [{string.Join(", ", s)}]; expected [B, {a.NumChannels}, {a.ImageSize}, {a.ImageSize}] " +
                "(preprocessed, normalised pixels).", nameof(pixelValues));
    }

    /// <summary>Encoder passes run so far (plain, cached and hooked); tests use it to check how many passes a study costs.</summary>
    internal long PassCount => Interlocked.Read(ref _passCount);

    private long _passCount;

    private Tensor Execute(Tensor pixelValues, HookRunState? state)
    {
        ValidatePixels(pixelValues);
        Interlocked.Increment(ref _passCount);
        using var _ = no_grad();
        // Begin even without a state, so a plain call never sees an outer run's hooks.
        using var run = Runtime.Begin(state);
        using var scope = NewDisposeScope();
        var output = ForwardCore(pixelValues.to(DType, _device));
        // A hook may hand back a tensor it owns: copy so the caller always owns the output.
        if (scope.Contains(output)) return output.MoveToOuterDisposeScope();
        return output.clone().MoveToOuterDisposeScope();
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

    /// <summary>
    /// Loads a freshly built model's weights strictly from <paramref name="folder"/> (every family's <c>FromPretrained</c>),
    /// switches it to eval mode and returns it; disposes it when loading fails. A model built on the meta device (what
    /// the families' <c>FromPretrained</c> do: no random initialisation of weights the file is about to overwrite) is
    /// checked against the file first, then gets its parameters on <paramref name="device"/>, then is filled.
    /// </summary>
    protected static TModel LoadWeights<TModel>(TModel model, string folder, StateDictLoadOptions loadOptions, torch.Device? device = null)
        where TModel : HookedVitModel
    {
        try
        {
            using var source = CheckpointLocator.Open(folder, "model");
            if (model._device.type == DeviceType.META)
            {
                var target = device ?? torch.CPU;
                MetaParameters.AllocateAndLoad(model, source, loadOptions, target, model.DType);
                model._device = target;
            }
            else StateDictLoader.Load(model, source, loadOptions);
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
