using System.Collections.Concurrent;

namespace DiffusionSteeringLens.Cli;

/// <summary>
/// Where the tool runs its long libtorch work (a study, a sweep, an export) while the caller's thread shows progress.
/// </summary>
/// <remarks>
/// The <c>dsl</c> program hands it the process's first thread (<see cref="MainThreadCompute"/>). glibc serves that
/// thread from its main heap, where <see cref="Runtime.TorchNativeLoader.EnableMemoryReuse"/> keeps freed blocks below
/// 128 MiB for reuse; every other thread gets an arena of its own whose heaps hold at most 64 MiB, so larger blocks —
/// the decoder's feature maps at 512 px and the convolution weights oneDNN reorders on every call — would be mapped
/// and page-faulted fresh each time. Measured with every block up to 2 GiB kept (before the 128 MiB limit): full-size
/// UNet steps of 11–12 s on a thread-pool thread, 7.3 s on the first thread (docs/performance.md). In-process callers
/// (the tests) use <see cref="Pool"/>.
/// </remarks>
internal abstract class ComputeThread
{
    /// <summary>Runs work on the thread pool (<c>Task.Run</c>).</summary>
    public static ComputeThread Pool { get; } = new PoolCompute();

    /// <summary>Runs <paramref name="work"/> on this compute thread; its result or exception completes the task.</summary>
    public abstract Task<T> Run<T>(Func<T> work, CancellationToken ct);

    private sealed class PoolCompute : ComputeThread
    {
        public override Task<T> Run<T>(Func<T> work, CancellationToken ct) => Task.Run(work, ct);
    }
}

/// <summary>
/// Work queued from any thread, run one item at a time by the thread that calls <see cref="RunUntil"/> (the program's
/// first thread).
/// </summary>
internal sealed class MainThreadCompute : ComputeThread, IDisposable
{
    private readonly BlockingCollection<Action> _queue = new();

    /// <inheritdoc />
    public override Task<T> Run<T>(Func<T> work, CancellationToken ct)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _queue.Add(() =>
            {
                if (ct.IsCancellationRequested) { done.SetCanceled(ct); return; }
                try { done.SetResult(work()); }
                catch (OperationCanceledException e) when (e.CancellationToken == ct) { done.SetCanceled(ct); }
                catch (Exception e) { done.SetException(e); }
            }, ct);
        }
        catch (InvalidOperationException)
        {
            // The loop has ended (the run is over): nothing may run any more.
            done.SetException(new InvalidOperationException("the compute thread has stopped."));
        }
        catch (OperationCanceledException) { done.SetCanceled(ct); }
        return done.Task;
    }

    /// <summary>Runs queued work on the calling thread until <paramref name="run"/> completes.</summary>
    public void RunUntil(Task run)
    {
        ArgumentNullException.ThrowIfNull(run);
        run.ContinueWith(_ => _queue.CompleteAdding(), TaskScheduler.Default);
        foreach (var item in _queue.GetConsumingEnumerable()) item();
    }

    /// <inheritdoc />
    public void Dispose() => _queue.Dispose();
}
