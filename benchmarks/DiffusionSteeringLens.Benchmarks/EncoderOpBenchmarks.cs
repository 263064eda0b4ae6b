using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using TorchSharp;

namespace DiffusionSteeringLens.Benchmarks;

/// <summary>
/// The encoder operations of <c>dsl perf</c> (issue 15) under BenchmarkDotNet, at two sizes: "small" (the shipped
/// shapes32 architecture: 4 layers × 4 heads, hidden 96, 32 px) and "b16" (ViT-B/16: 12 × 12, hidden 768, 224 px),
/// batch 1, fp32, random weights (the cost does not depend on them). <c>dsl perf</c> reports the same operations
/// against the GEMM floor; this suite gives BenchmarkDotNet's statistics for them.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 2, iterationCount: 10)]
public class EncoderOpBenchmarks
{
    private ClipVisionModelWithProjection _vit = null!;
    private torch.Tensor _pixels = null!;
    private IReadOnlyList<LensTarget> _heads = null!;

    /// <summary>Model size.</summary>
    [Params("small", "b16")]
    public string Size { get; set; } = "small";

    /// <summary>Builds the random model of the chosen size.</summary>
    [GlobalSetup]
    public void Setup()
    {
        BenchmarkProcess.InitTorch();
        var config = BenchmarkProcess.ClipConfig(Size);
        _vit = new ClipVisionModelWithProjection(config);
        _vit.eval();
        _pixels = torch.randn(1, 3, config.ImageSize, config.ImageSize);
        _heads = LensTarget.AllHeads(_vit.Architecture);
    }

    /// <summary><c>dsl perf encoder-forward</c>: one plain forward.</summary>
    [Benchmark(Baseline = true)]
    public long EncoderForward()
    {
        using var e = _vit.Forward(_pixels);
        return e.shape[1];
    }

    /// <summary><c>dsl perf encoder-cache-all</c>: one forward caching every hook point.</summary>
    [Benchmark]
    public int EncoderCacheAll()
    {
        using var run = _vit.RunWithCache(_pixels, CacheRequest.All);
        return run.Cache.Count;
    }

    /// <summary><c>dsl perf dsl-all-heads</c>: every head's DSL embedding in closed form.</summary>
    [Benchmark]
    public long DslAllHeads()
    {
        using var e = new SteeringLens(_vit, new SteeringOptions()).ComputeEmbeddings(_pixels, _heads);
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
