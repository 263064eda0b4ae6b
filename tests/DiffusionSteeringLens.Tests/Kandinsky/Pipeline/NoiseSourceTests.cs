using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Kandinsky;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Kandinsky.Pipeline;

/// <summary>Seeded and replayed noise sources.</summary>
public sealed class NoiseSourceTests
{
    /// <summary>
    /// The built-in pipeline case0 was run with <c>torch.Generator().manual_seed(5001)</c> (golden README: case seed
    /// 5000, generator seed + 1) and explicit latents, so its recorded step noises are that generator's first draws.
    /// A <see cref="SeededNoiseSource"/> with the same seed must produce the same stream.
    /// </summary>
    [Fact]
    public void Seeded_source_reproduces_pytorch_cpu_generator_stream()
    {
        using var cases = SafetensorsFile.Open(Path.Combine(Fixtures.Golden("pipeline"), "cases.safetensors"));
        using var source = new SeededNoiseSource(5001);
        for (int i = 0; cases.Contains($"case0.step{i}.variance_noise"); i++)
        {
            using var expected = cases.Load($"case0.step{i}.variance_noise");
            using var drawn = i == 0
                ? source.InitialLatents(0, expected.shape, torch.ScalarType.Float32, torch.CPU)
                : source.StepNoise(0, i - 1, expected.shape, torch.ScalarType.Float32, torch.CPU);
            TensorAssert.Equal(expected, drawn, $"draw {i}");
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
