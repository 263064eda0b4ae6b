using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using TorchSharp;

namespace DiffusionSteeringLens.Benchmarks;

/// <summary>
/// Issue #5 cost check: all-heads DSL embeddings in closed form (one cached forward + one batched read-out) against the
/// naive hook-based path (one steered, patched forward per head) on a random 12-layer × 12-head ViT-B/16 at 224 px.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class DslCostBenchmarks
{
    private ClipVisionModelWithProjection _vit = null!;
    private torch.Tensor _pixels = null!;
    private IReadOnlyList<LensTarget> _heads = null!;

    /// <summary>Builds the random model (weights are whatever TorchSharp's initialisers give; cost does not depend on them).</summary>
    [GlobalSetup]
    public void Setup()
    {
        BenchmarkProcess.InitTorch();
        var config = BenchmarkProcess.ClipConfig("b16");
        _vit = new ClipVisionModelWithProjection(config);
        _pixels = torch.randn(1, 3, 224, 224);
        _heads = LensTarget.AllHeads(_vit.Architecture);
    }

    /// <summary>144 heads from one forward.</summary>
    [Benchmark(Baseline = true)]
    public long ClosedForm()
    {
        using var e = new SteeringLens(_vit, new SteeringOptions { Computation = DslComputation.ClosedForm }).ComputeEmbeddings(_pixels, _heads);
        return e.shape[1];
    }

    /// <summary>144 heads, one hooked forward each (plus the clean cached run).</summary>
    [Benchmark]
    public long OneForwardPerHead()
    {
        using var e = new SteeringLens(_vit, new SteeringOptions { Computation = DslComputation.HookBased }).ComputeEmbeddings(_pixels, _heads);
        return e.shape[1];
    }

    /// <summary>Frees the model.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _pixels.Dispose();
        _vit.Dispose();
    }
}
