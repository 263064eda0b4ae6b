using DiffusionSteeringLens.Decoding;
namespace DiffusionSteeringLens.Tests.Kandinsky.Pipeline;

/// <summary>An <see cref="IProgress{T}"/> that runs its handler synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class SyncProgress<T> : IProgress<T>
{
    private readonly Action<T> _handler;
    public SyncProgress(Action<T> handler) => _handler = handler;
    public void Report(T value) => _handler(value);
}

/// <summary>Factory so the type argument is inferred.</summary>
internal static class SyncProgress
{
    public static SyncProgress<DiffusionSteeringLens.Decoding.DecodeProgress> Create(Action<DiffusionSteeringLens.Decoding.DecodeProgress> handler) => new(handler);
}
