using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using TorchSharp;

namespace DiffusionSteeringLens.Benchmarks;

/// <summary>
/// <c>dsl perf gemm</c> under BenchmarkDotNet: one 2048 × 2048 matmul (17.2 GFLOP) in float32 and bfloat16 — the floor
/// every model operation is held against (GFLOP/s = 17.18 / seconds).
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 2, iterationCount: 10)]
public class GemmBenchmarks
{
    private torch.Tensor _a = null!, _b = null!;

    /// <summary>Element type.</summary>
    [Params("float32", "bfloat16")]
    public string DType { get; set; } = "float32";

    /// <summary>Two random 2048² matrices.</summary>
    [GlobalSetup]
    public void Setup()
    {
        BenchmarkProcess.InitTorch();
        var dtype = DType == "bfloat16" ? torch.ScalarType.BFloat16 : torch.ScalarType.Float32;
        _a = torch.randn(2048, 2048).to(dtype);
        _b = torch.randn(2048, 2048).to(dtype);
    }

    /// <summary>One matmul.</summary>
    [Benchmark]
    public long Gemm2048()
    {
        using var c = _a.mm(_b);
        return c.shape[0];
    }

    /// <summary>Frees the matrices.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
    }
}
