using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Hooks;

/// <summary>
/// A named identity module the model calls (through <c>.call</c>) at every site an intervention or cache may touch.
/// During a run it applies the run's bound <see cref="HookFunction"/>s in order, then records the (post-hook) value when
/// the run caches this point. Outside a run it returns its input untouched.
/// </summary>
/// <remarks>
/// Hook functions run inside the model's dispose scope: any tensor they create is freed when the run ends, so a function
/// that keeps a tensor beyond the run must call <c>DetachFromDisposeScope()</c> on it (and dispose it later).
/// </remarks>
public sealed class HookPoint : nn.Module<Tensor, Tensor>
{
    private HookRuntime? _runtime;

    /// <summary>
    /// Creates a hook point; its token axis follows from the name (<see cref="HookPointLayout.TokenAxis"/>). The model that
    /// registers it binds it to its run state (<see cref="Models.Vit.HookedVitModel"/>'s <c>CompleteSetup</c>); until then
    /// it passes its input through.
    /// </summary>
    /// <param name="name">Full hook name (see <see cref="HookNames"/>).</param>
    public HookPoint(string name) : base(name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        HookName = name;
        TokenAxis = HookPointLayout.TokenAxis(name);
    }

    /// <summary>Creates a hook point already bound to its model's run state (the library's own models and the UNet).</summary>
    internal HookPoint(string name, HookRuntime runtime) : this(name) =>
        _runtime = runtime ?? throw new ArgumentNullException(nameof(runtime));

    /// <summary>Binds the point to its model's run state; a point belongs to one model.</summary>
    /// <exception cref="InvalidOperationException">The point is already bound to another model.</exception>
    internal void Bind(HookRuntime runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        if (_runtime is not null && !ReferenceEquals(_runtime, runtime))
            throw new InvalidOperationException($"hook point '{HookName}' already belongs to another model.");
        _runtime = runtime;
    }

    /// <summary>The point's full name.</summary>
    public string HookName { get; }

    /// <summary>Axis a positions filter selects on, or null (the single definition is <see cref="HookPointLayout.TokenAxis"/>).</summary>
    public int? TokenAxis { get; }

    /// <summary>True when the current run hooks or caches this point (used to skip on-demand computations).</summary>
    public bool IsActive => _runtime?.Current?.Wants(HookName) ?? false;

    /// <summary>
    /// True when caching is all the current run does at this point (it caches it and binds no hook function): the model
    /// may then compute the value for the cache alone — at <see cref="CachePositions"/> only, when set — hand it to
    /// <see cref="Record"/>, and compute its own output by a faster route. The per-head results use this: the closed-form
    /// DSL needs them at CLS only, and the layer output then comes from the fused out-projection, exactly as in a plain
    /// forward.
    /// </summary>
    internal bool IsCacheOnly
    {
        get
        {
            var run = _runtime?.Current;
            return run is not null && run.FunctionsFor(HookName) is null && run.Caches(HookName);
        }
    }

    /// <summary>With <see cref="IsCacheOnly"/>, the token positions the run caches (null = every token, or no token axis).</summary>
    internal Tensor? CachePositions => IsCacheOnly && TokenAxis is not null ? _runtime!.Current!.PositionIndex : null;

    /// <summary>
    /// Records what calling the point would have cached, when <see cref="IsCacheOnly"/>: <paramref name="value"/> is
    /// already restricted to <see cref="CachePositions"/> when those are set.
    /// </summary>
    /// <exception cref="InvalidOperationException">The current run does more than cache this point.</exception>
    internal void Record(Tensor value)
    {
        if (!IsCacheOnly) throw new InvalidOperationException($"hook point '{HookName}' is hooked or not cached in this run; call it instead.");
        using var _ = no_grad();
        _runtime!.Current!.Cache!.Add(HookName, value.detach().clone().DetachFromDisposeScope());
    }

    /// <summary>Applies the current run's hooks and records the value if requested.</summary>
    public override Tensor forward(Tensor input)
    {
        var run = _runtime?.Current;
        if (run is null) return input;
        var x = input;
        var functions = run.FunctionsFor(HookName);
        if (functions != null)
            foreach (var f in functions)
                x = f(x, HookName) ?? throw new InvalidOperationException($"Hook function on '{HookName}' returned null.");
        if (run.Caches(HookName)) run.Cache!.Add(HookName, Snapshot(x, run.PositionIndex));
        return x;
    }

    private Tensor Snapshot(Tensor x, Tensor? positions)
    {
        using var _ = no_grad();
        // A fresh copy, detached from the forward's dispose scope: the cache owns it beyond the run.
        var copy = positions is not null && TokenAxis is int axis
            ? x.detach().index_select(axis, positions)
            : x.detach().clone();
        return copy.DetachFromDisposeScope();
    }
}
