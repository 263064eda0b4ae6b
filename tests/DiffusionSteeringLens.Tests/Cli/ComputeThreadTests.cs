using DiffusionSteeringLens.Cli;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary>
/// <see cref="MainThreadCompute"/>: work queued from other threads runs on the thread that called RunUntil, one item at
/// a time, with results, exceptions and cancellation reaching the caller as Task.Run would deliver them.
/// </summary>
public sealed class ComputeThreadTests
{
    [Fact]
    public async Task Queued_work_runs_on_the_looping_thread_and_returns_its_results()
    {
        using var compute = new MainThreadCompute();
        var loopThread = Environment.CurrentManagedThreadId;
        var run = Task.Run(async () =>
        {
            var first = await compute.Run(() => (Environment.CurrentManagedThreadId, 1), CancellationToken.None);
            var second = await compute.Run(() => (Environment.CurrentManagedThreadId, 2), CancellationToken.None);
            return new[] { first, second };
        });
        compute.RunUntil(run);
        var results = await run; // already complete: RunUntil returned
        Assert.All(results, r => Assert.Equal(loopThread, r.Item1));
        Assert.Equal(new[] { 1, 2 }, results.Select(r => r.Item2));
    }

    [Fact]
    public async Task An_exception_in_the_work_fails_only_that_task_and_the_loop_goes_on()
    {
        using var compute = new MainThreadCompute();
        var run = Task.Run(async () =>
        {
            var failed = await Assert.ThrowsAsync<InvalidDataException>(() => compute.Run<int>(() => throw new InvalidDataException("bad file"), CancellationToken.None));
            Assert.Equal("bad file", failed.Message);
            return await compute.Run(() => 42, CancellationToken.None);
        });
        compute.RunUntil(run);
        Assert.Equal(42, await run);
    }

    [Fact]
    public async Task Cancellation_before_the_work_starts_or_from_inside_it_cancels_the_task()
    {
        using var compute = new MainThreadCompute();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        using var inside = new CancellationTokenSource();
        bool ran = false;
        var run = Task.Run(async () =>
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => compute.Run(() => ran = true, cancelled.Token));
            var task = compute.Run<int>(() => { inside.Cancel(); inside.Token.ThrowIfCancellationRequested(); return 0; }, inside.Token);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
            Assert.True(task.IsCanceled);
        });
        compute.RunUntil(run);
        await run;
        Assert.False(ran);
    }

    [Fact]
    public async Task Work_queued_after_the_run_ended_fails_instead_of_waiting_forever()
    {
        using var compute = new MainThreadCompute();
        compute.RunUntil(Task.CompletedTask);
        await Assert.ThrowsAsync<InvalidOperationException>(() => compute.Run(() => 1, CancellationToken.None));
    }

    [Fact]
    public async Task The_pool_runs_work_on_a_thread_pool_thread()
    {
        var onPool = await ComputeThread.Pool.Run(() => Thread.CurrentThread.IsThreadPoolThread, CancellationToken.None);
        Assert.True(onPool);
    }
}
