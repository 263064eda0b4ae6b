using TorchSharp;

namespace DiffusionSteeringLens.Hooks;

/// <summary>
/// The per-run state shared by one model's hook points: which functions are bound, and which activations to record.
/// A model owns one runtime; its hook points read the current run from it.
/// </summary>
/// <remarks>
/// The run state lives in an <see cref="AsyncLocal{T}"/>, so concurrent runs of one model on different threads never see
/// each other's bindings or caches, and nothing survives the run that set it.
/// </remarks>
internal sealed class HookRuntime
{
    private readonly AsyncLocal<HookRunState?> _current = new();

    /// <summary>The active run on this thread, or null when the model runs plain.</summary>
    internal HookRunState? Current => _current.Value;

    /// <summary>
    /// Makes a run active until the returned scope is disposed (then the previous state, usually none, is restored).
    /// </summary>
    internal RunScope Begin(HookRunState? state)
    {
        var previous = _current.Value;
        _current.Value = state;
        return new RunScope(this, previous);
    }

    /// <summary>Restores the previous run state when disposed.</summary>
    internal readonly struct RunScope : IDisposable
    {
        private readonly HookRuntime _owner;
        private readonly HookRunState? _previous;

        internal RunScope(HookRuntime owner, HookRunState? previous)
        {
            _owner = owner;
            _previous = previous;
        }

        public void Dispose() => _owner._current.Value = _previous;
    }
}

/// <summary>Bindings and cache of one run. Owns the positions index tensor.</summary>
internal sealed class HookRunState : IDisposable
{
    private readonly Dictionary<string, List<HookFunction>> _bindings = new(StringComparer.Ordinal);
    private readonly Func<string, bool>? _nameFilter;

    public HookRunState(IReadOnlyList<HookBinding>? bindings, ActivationCache? cache, CacheRequest? request, torch.Device device)
    {
        if (bindings != null)
            foreach (var b in bindings)
            {
                ArgumentNullException.ThrowIfNull(b);
                if (!_bindings.TryGetValue(b.HookName, out var list)) _bindings[b.HookName] = list = new List<HookFunction>();
                list.Add(b.Function);
            }
        Cache = cache;
        _nameFilter = request?.NameFilter;
        if (cache != null && request?.Positions is { } positions)
            PositionIndex = torch.tensor(positions.Select(p => (long)p).ToArray(), torch.int64, device);
    }

    /// <summary>The cache being filled, or null.</summary>
    public ActivationCache? Cache { get; }

    /// <summary>Token positions to keep as an index tensor, or null for all.</summary>
    public torch.Tensor? PositionIndex { get; }

    /// <summary>Hook names that have at least one binding.</summary>
    public IEnumerable<string> BoundNames => _bindings.Keys;

    /// <summary>Functions bound to a point, in binding order, or null.</summary>
    public List<HookFunction>? FunctionsFor(string name) => _bindings.TryGetValue(name, out var l) ? l : null;

    /// <summary>True when the run records this point.</summary>
    public bool Caches(string name) =>
        Cache != null && (_nameFilter?.Invoke(name) ?? !HookNames.IsOnDemand(name));

    /// <summary>True when the point's value is needed: hooked or cached (decides whether on-demand points are computed).</summary>
    public bool Wants(string name) => _bindings.ContainsKey(name) || Caches(name);

    public void Dispose() => PositionIndex?.Dispose();
}
