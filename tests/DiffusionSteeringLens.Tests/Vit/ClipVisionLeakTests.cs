using DiffusionSteeringLens.Hooks;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Vit;

/// <summary>Repeated cached runs release their native memory.</summary>
public sealed class ClipVisionLeakTests
{
    private readonly ITestOutputHelper _out;

    public ClipVisionLeakTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void TwoHundredCachedRunsKeepMemoryFlat()
    {
        using var model = GoldenClip.Load();
        using var x = GoldenClip.RandomPixels(4, 7);
        var everything = new CacheRequest { NameFilter = _ => true };
        var hooks = new[] { Interventions.ZeroAblateHead(0, 1), Interventions.Scale(HookNames.MlpOut(1), 0.5, new[] { 0 }) };

        void Run()
        {
            using var run = model.RunWithCache(x, everything, hooks);
            using var d = run.Cache.Decompose();
            using var acc = run.Cache.AccumulatedResidual(true);
        }

        for (int i = 0; i < 20; i++) Run(); // warm-up: allocator pools, JIT
        // Rss() collects garbage first, so tensors other tests left to the finalizer are gone before counting.
        long rssBefore = Rss();
        long liveBefore = torch.Tensor.TotalCount;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 200; i++) Run();
        double cachedMs = watch.Elapsed.TotalMilliseconds / 200;
        watch.Restart();
        for (int i = 0; i < 50; i++) model.Forward(x).Dispose();
        double plainMs = watch.Elapsed.TotalMilliseconds / 50;
        _out.WriteLine($"B=4: cached run + decomposition {cachedMs:F2} ms, plain forward {plainMs:F2} ms");
        long rssAfter = Rss();
        long liveAfter = torch.Tensor.TotalCount;
        _out.WriteLine($"live tensors {liveBefore} → {liveAfter}; RSS {rssBefore / 1048576.0:F1} → {rssAfter / 1048576.0:F1} MiB");

        // The count is process-wide: finalizing another test's garbage may lower it, but the runs must not raise it.
        Assert.True(liveAfter <= liveBefore, $"live tensors grew from {liveBefore} to {liveAfter} over 200 runs");
        // Each run caches ~150 kB; a leak of 200 runs would be ≥30 MB (GC noise stays well below).
        Assert.True(rssAfter - rssBefore < 24L * 1024 * 1024, $"RSS grew {(rssAfter - rssBefore) / 1048576.0:F1} MiB over 200 runs");
    }

    private static long Rss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var fields = File.ReadAllText("/proc/self/statm").Split(' ');
        return long.Parse(fields[1]) * Environment.SystemPageSize;
    }
}
