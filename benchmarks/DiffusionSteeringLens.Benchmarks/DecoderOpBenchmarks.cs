using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using DiffusionSteeringLens.Models.Kandinsky;
using DiffusionSteeringLens.Synthetic;
using TorchSharp;

namespace DiffusionSteeringLens.Benchmarks;

/// <summary>
/// The decoder operations of <c>dsl perf</c> (issue 15) under BenchmarkDotNet on the shipped shapes32 decoder (a
/// pixel-space Kandinsky 2.2 UNet at 32 px, no MoVQ): one UNet step (a classifier-free-guidance pair, as
/// <c>dsl perf unet-step</c>) and one full picture (<c>dsl perf decode</c>: 25 DDPM steps, guidance 4). There is no
/// ViT-B/16-sized decoder; the full-size UNet and MoVQ are timed by <c>dsl perf</c> on <c>dsl make-random</c> folders
/// (docs/performance.md).
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 2, iterationCount: 10)]
public class DecoderOpBenchmarks
{
    private KandinskyV22Decoder _decoder = null!;
    private torch.Tensor _latents = null!, _timestep = null!, _conditioning = null!, _embedding = null!, _negative = null!;

    /// <summary>Loads the shipped decoder and makes random inputs of its sizes.</summary>
    [GlobalSetup]
    public void Setup()
    {
        BenchmarkProcess.InitTorch();
        var folder = Path.Combine(ShippedModels.Require(ShippedModels.Shapes32, AppContext.BaseDirectory), "decoder");
        _decoder = KandinskyV22Decoder.FromPretrained(folder);
        var (h, w) = _decoder.LatentSize(32, 32);
        _latents = torch.randn(2, _decoder.Unet.InChannels, h, w);
        _timestep = torch.tensor(500L);
        _conditioning = torch.randn(2, _decoder.EmbeddingDim);
        _embedding = torch.randn(1, _decoder.EmbeddingDim);
        _negative = torch.zeros(1, _decoder.EmbeddingDim);
    }

    /// <summary>One denoiser evaluation of a guidance pair.</summary>
    [Benchmark(Baseline = true)]
    public long UnetStep()
    {
        using var y = _decoder.Unet.Predict(_latents, _timestep, _conditioning);
        return y.shape[1];
    }

    /// <summary>One 32-px picture: 25 steps, guidance 4.</summary>
    [Benchmark]
    public long DecodePicture()
    {
        using var picture = _decoder.Decode(_embedding, _negative, new KandinskyDecodeOptions { Height = 32, Width = 32, NumInferenceSteps = 25, GuidanceScale = 4 });
        return picture.shape[0];
    }

    /// <summary>Frees the decoder and inputs.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _latents, _timestep, _conditioning, _embedding, _negative }) t.Dispose();
        _decoder.Dispose();
    }
}
