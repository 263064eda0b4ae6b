using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using TorchSharp;

namespace DiffusionSteeringLens.Benchmarks;

/// <summary>
/// One ViT-B/16 attention core ([1, 12, 197, 64]: scores, softmax, weighted values) the way the encoders compute it —
/// HF's eager attention with the softmax in float32 — against libtorch's fused <c>scaled_dot_product_attention</c>, in
/// float32 and bfloat16. The question it answers: would a fused attention shorten the forward on this CPU (stop 26: no).
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 5, iterationCount: 20, invocationCount: 150)]
public class AttentionBenchmarks
{
    private torch.Tensor _q = null!, _k = null!, _v = null!;
    private torch.ScalarType _dtype;

    /// <summary>Element type.</summary>
    [Params("float32", "bfloat16")]
    public string DType { get; set; } = "float32";

    /// <summary>Random q, k, v [B, T, H, d] as the projections give them.</summary>
    [GlobalSetup]
    public void Setup()
    {
        BenchmarkProcess.InitTorch();
        _dtype = DType == "bfloat16" ? torch.ScalarType.BFloat16 : torch.ScalarType.Float32;
        _q = torch.randn(1, 197, 12, 64).to(_dtype);
        _k = torch.randn(1, 197, 12, 64).to(_dtype);
        _v = torch.randn(1, 197, 12, 64).to(_dtype);
    }

    /// <summary>The encoders' eager attention (ClipAttention's unhooked path).</summary>
    [Benchmark(Baseline = true)]
    public long Eager()
    {
        using var scope = torch.NewDisposeScope();
        var scores = torch.matmul(_q.transpose(1, 2), _k.permute(0, 2, 3, 1)).mul(0.125);
        var pattern = scores.to(torch.ScalarType.Float32).softmax(-1).to(_dtype);
        var z = torch.matmul(pattern, _v.transpose(1, 2)).transpose(1, 2).reshape(1, 197, 768);
        return z.shape[2];
    }

    /// <summary>libtorch's fused attention on the same tensors.</summary>
    [Benchmark]
    public long Fused()
    {
        using var scope = torch.NewDisposeScope();
        var z = torch.nn.functional.scaled_dot_product_attention(_q.transpose(1, 2), _k.transpose(1, 2), _v.transpose(1, 2))
            .transpose(1, 2).reshape(1, 197, 768);
        return z.shape[2];
    }

    /// <summary>Frees the tensors.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _q.Dispose();
        _k.Dispose();
        _v.Dispose();
    }
}
