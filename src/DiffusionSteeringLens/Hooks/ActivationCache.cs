using System.Collections;
using TorchSharp;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Hooks;

/// <summary>
/// Activations recorded by one run, keyed by hook name (see <see cref="HookNames"/>). Owns its tensors: dispose it.
/// With a positions filter, token-axis tensors hold only <see cref="Positions"/> on their token axis.
/// </summary>
public sealed partial class ActivationCache : IReadOnlyDictionary<string, torch.Tensor>, IDisposable
{
    private readonly Dictionary<string, torch.Tensor> _store = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <summary>Creates an empty cache for a model.</summary>
    public ActivationCache(VitArchitecture architecture, IReadOnlyList<int>? positions)
    {
        Architecture = architecture;
        Positions = positions;
    }

    /// <summary>The model's shape facts.</summary>
    public VitArchitecture Architecture { get; }

    /// <summary>Kept token positions, or null for all.</summary>
    public IReadOnlyList<int>? Positions { get; }

    /// <summary>Stores a tensor (the cache takes ownership; an existing entry is replaced and disposed).</summary>
    public void Add(string name, torch.Tensor tensor)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_store.Remove(name, out var old) && !ReferenceEquals(old, tensor)) old.Dispose();
        _store[name] = tensor;
    }

    /// <summary>The activation at a hook point.</summary>
    /// <exception cref="KeyNotFoundException">Not cached; the message lists how to request it.</exception>
    public torch.Tensor this[string key] =>
        _store.TryGetValue(key, out var t)
            ? t
            : throw new KeyNotFoundException($"'{key}' is not in the cache. Request it in the CacheRequest (on-demand points such as hook_result, hook_q/k/v and hook_pattern must be named).");

    /// <inheritdoc />
    public IEnumerable<string> Keys => _store.Keys;
    /// <inheritdoc />
    public IEnumerable<torch.Tensor> Values => _store.Values;
    /// <inheritdoc />
    public int Count => _store.Count;
    /// <inheritdoc />
    public bool ContainsKey(string key) => _store.ContainsKey(key);
    /// <inheritdoc />
    public bool TryGetValue(string key, out torch.Tensor value) => _store.TryGetValue(key, out value!);
    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, torch.Tensor>> GetEnumerator() => _store.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Disposes every cached tensor.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _store.Values) t.Dispose();
        _store.Clear();
    }
}
