using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Kandinsky;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Kandinsky.Pipeline;

/// <summary>Seeded and replayed noise sources.</summary>
public sealed class NoiseSourceTests
{
    // See the remarks of the first test: the scalar Box–Muller kernel's bound, 8ε · max radius sqrt(2·24·ln 2).
    private static readonly double ScalarKernelBound = 8 * Math.Pow(2, -23) * Math.Sqrt(2 * 24 * Math.Log(2));

    /// <summary>
    /// The built-in pipeline case0 was run with <c>torch.Generator().manual_seed(5001)</c> (golden README: case seed
    /// 5000, generator seed + 1) and explicit latents, so its recorded step noises are that generator's first draws.
    /// A <see cref="SeededNoiseSource"/> with the same seed must produce the same stream.
    /// </summary>
    /// <remarks>
    /// PyTorch's float32 <c>normal_</c> has two Box–Muller kernels, chosen per process by CPU capability: a vectorised one
    /// compiled only into the AVX2 kernel family and a scalar one used by every other family (<c>default</c> and
    /// <c>avx512</c> alike). Both turn the same generator uniforms into sqrt(−2 ln u₁)·cos(2πu₂) and differ only in
    /// the rounding of ln, sqrt and cos. The fixture was recorded on the AVX2 path, so there the stream must match bit
    /// for bit. On the scalar path the rounding of cos θ gives an absolute error of a few ε·r, where the radius
    /// r = sqrt(−2 ln u₁) is at most sqrt(2·24·ln 2) = 5.77 (the smallest float32 uniform is 2⁻²⁴); the bound is 8ε·5.77 =
    /// 5.5e-6 — measured here under <c>ATEN_CPU_CAPABILITY=default</c>: 100 of 256 values of the first draw differ, by at
    /// most 1.19e-6. A wrong stream (another uniform) misses it by orders of magnitude.
    /// </remarks>
    [Fact]
    public void Seeded_source_reproduces_pytorch_cpu_generator_stream()
    {
        using var cases = SafetensorsFile.Open(Path.Combine(Fixtures.Golden("pipeline"), "cases.safetensors"));
        using var source = new SeededNoiseSource(5001);
        string kernels = LibtorchCpuKernels.Effective();
        bool exact = kernels == "avx2";
        for (int i = 0; cases.Contains($"case0.step{i}.variance_noise"); i++)
        {
            using var expected = cases.Load($"case0.step{i}.variance_noise");
            using var drawn = i == 0
                ? source.InitialLatents(0, expected.shape, torch.ScalarType.Float32, torch.CPU)
                : source.StepNoise(0, i - 1, expected.shape, torch.ScalarType.Float32, torch.CPU);
            if (exact) TensorAssert.Equal(expected, drawn, $"draw {i} ({kernels} kernels)");
            else TensorAssert.CloseAbsolute(expected, drawn, ScalarKernelBound, $"draw {i} ({kernels} kernels)");
        }
    }

    [Fact]
    public void Seeded_source_draws_per_image_independently_of_the_chunk()
    {
        using var together = new SeededNoiseSource(40);
        using var separate = new SeededNoiseSource(40);
        var shape = new long[] { 3, 4, 2, 2 };
        using var all = together.InitialLatents(0, shape, torch.ScalarType.Float32, torch.CPU);
        using var allStep = together.StepNoise(0, 0, shape, torch.ScalarType.Float32, torch.CPU);
        using var first = separate.InitialLatents(0, new long[] { 1, 4, 2, 2 }, torch.ScalarType.Float32, torch.CPU);
        using var rest = separate.InitialLatents(1, new long[] { 2, 4, 2, 2 }, torch.ScalarType.Float32, torch.CPU);
        using var restStep = separate.StepNoise(1, 0, new long[] { 2, 4, 2, 2 }, torch.ScalarType.Float32, torch.CPU);
        using var allFirst = all.narrow(0, 0, 1);
        using var allRest = all.narrow(0, 1, 2);
        using var allStepRest = allStep.narrow(0, 1, 2);
        TensorAssert.Equal(allFirst, first, "image 0 latents");
        TensorAssert.Equal(allRest, rest, "images 1-2 latents");
        TensorAssert.Equal(allStepRest, restStep, "images 1-2 step noise");
        Assert.Throws<InvalidOperationException>(() => new SeededNoiseSource(1).StepNoise(0, 0, shape, torch.ScalarType.Float32, torch.CPU));
    }

    [Fact]
    public void Replay_source_returns_recorded_rows_and_refuses_missing_steps()
    {
        using var latents = torch.arange(8f).view(2, 4, 1, 1);
        using var noise = torch.arange(8f, 16f).view(2, 4, 1, 1);
        var source = new ReplayNoiseSource(latents, new[] { noise });
        using var row = source.InitialLatents(1, new long[] { 1, 4, 1, 1 }, torch.ScalarType.Float64, torch.CPU);
        Assert.Equal(torch.ScalarType.Float64, row.dtype);
        Assert.Equal(4.0, row[0, 0, 0, 0].item<double>());
        using var step = source.StepNoise(0, 0, new long[] { 2, 4, 1, 1 }, torch.ScalarType.Float32, torch.CPU);
        TensorAssert.Equal(noise, step, "step 0");
        Assert.Throws<ArgumentOutOfRangeException>(() => source.StepNoise(0, 1, new long[] { 2, 4, 1, 1 }, torch.ScalarType.Float32, torch.CPU));
        Assert.Throws<ArgumentException>(() => source.InitialLatents(1, new long[] { 2, 4, 1, 1 }, torch.ScalarType.Float32, torch.CPU));
    }
}
