using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// The in-memory store (<see cref="PictureStore.InMemory"/>): owns a copy of every saved picture until it is replaced or
/// the store is disposed; finished pictures are kept across renders for the store's lifetime.
/// </summary>
internal sealed class MemoryPictureStore : PictureStore
{
    private readonly Dictionary<(string Sweep, string Label), (string Fingerprint, torch.Tensor Picture)> _finished = new();
    private readonly Dictionary<(string Sweep, string Label), (string Fingerprint, torch.Tensor Picture)> _pending = new();
    private bool _disposed;

    public override void Begin(string sweep) => ObjectDisposedException.ThrowIf(_disposed, this);

    public override bool IsFinished(string sweep, string label, string fingerprint) =>
        _finished.TryGetValue((sweep, label), out var kept) && kept.Fingerprint == fingerprint;

    public override void Save(string sweep, string label, string fingerprint, torch.Tensor picture)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(picture);
        var copy = picture.detach().clone();
        // Not registered with any dispose scope: the store is its one owner.
        copy.DetachFromDisposeScope();
        if (_pending.Remove((sweep, label), out var replaced)) replaced.Picture.Dispose();
        _pending[(sweep, label)] = (fingerprint, copy);
    }

    public override void Commit(string sweep)
    {
        foreach (var key in _pending.Keys.Where(k => k.Sweep == sweep).ToArray())
        {
            _pending.Remove(key, out var saved);
            if (_finished.Remove(key, out var replaced)) replaced.Picture.Dispose();
            _finished[key] = saved;
        }
    }

    public override torch.Tensor Load(string sweep, IReadOnlyList<string> labels)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(labels);
        var pictures = labels.Select(l => _finished.TryGetValue((sweep, l), out var kept)
            ? kept.Picture
            : throw new InvalidOperationException($"no finished picture for '{l}' in sweep '{sweep}'.")).ToArray();
        return torch.stack(pictures, 0);
    }

    protected override void Dispose(bool disposing)
    {
        if (_disposed || !disposing) return;
        _disposed = true;
        foreach (var (_, picture) in _finished.Values.Concat(_pending.Values)) picture.Dispose();
        _finished.Clear();
        _pending.Clear();
    }
}
