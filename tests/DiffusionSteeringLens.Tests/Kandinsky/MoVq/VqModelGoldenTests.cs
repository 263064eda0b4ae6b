using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Kandinsky.MoVq;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Kandinsky.MoVq;

/// <summary>MoVQ (diffusers VQModel) against the reference outputs in <c>Fixtures/golden/movq</c>.</summary>
[Trait("Category", "Golden")]
public sealed class VqModelGoldenTests
{
    private const double Tol = 1e-4;
    private readonly ITestOutputHelper _output;

    public VqModelGoldenTests(ITestOutputHelper output) => _output = output;

    /// <summary>One row per fixture folder whose case file holds the MoVQ tensors.</summary>
    public static IEnumerable<object[]> Cases() =>
        Fixtures.Cases("movq", f => f.Contains("decode.latents") ? new[] { "movq" } : Array.Empty<string>());

    [Theory, MemberData(nameof(Cases))]
    public void Decode_without_quantisation_matches(GoldenCase goldenCase)
    {
        goldenCase.EnsurePresent();
        using var cases = goldenCase.OpenCases();
        using var model = VqModel.FromPretrained(goldenCase.Folder);
        using var latents = cases.Load("decode.latents");
        using var expected = cases.Load("decode.sample");
        using var actual = model.Decode(latents, forceNotQuantize: true);
        Report("decode.sample", TensorAssert.CloseScaled(expected, actual, Tol, $"{goldenCase} decode.sample"), expected);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Encode_matches(GoldenCase goldenCase)
    {
        goldenCase.EnsurePresent();
        using var cases = goldenCase.OpenCases();
        using var model = VqModel.FromPretrained(goldenCase.Folder);
        using var image = cases.Load("encode.image");
        using var expected = cases.Load("encode.latents");
        using var actual = model.Encode(image);
        Report("encode.latents", TensorAssert.CloseScaled(expected, actual, Tol, $"{goldenCase} encode.latents"), expected);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Quantize_gives_exact_indices_and_codes_and_quantised_decode_matches(GoldenCase goldenCase)
    {
        goldenCase.EnsurePresent();
        using var cases = goldenCase.OpenCases();
        using var model = VqModel.FromPretrained(goldenCase.Folder);
        using var latents = cases.Load("quantize.latents");
        using var expectedQuantized = cases.Load("quantize.quantized");
        using var expectedIndices = cases.Load("quantize.indices");
        using var expectedDecoded = cases.Load("quantize.decoded");
        var (quantized, indices) = model.Quantize(latents);
        using (quantized)
        using (indices)
        {
            TensorAssert.Equal(expectedIndices, indices, $"{goldenCase} quantize.indices");
            Report("quantize.quantized", TensorAssert.CloseScaled(expectedQuantized, quantized, Tol, $"{goldenCase} quantize.quantized"), expectedQuantized);
        }
        using var decoded = model.Decode(latents, forceNotQuantize: false);
        Report("quantize.decoded", TensorAssert.CloseScaled(expectedDecoded, decoded, Tol, $"{goldenCase} quantize.decoded"), expectedDecoded);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Forward_matches(GoldenCase goldenCase)
    {
        goldenCase.EnsurePresent();
        using var cases = goldenCase.OpenCases();
        using var model = VqModel.FromPretrained(goldenCase.Folder);
        using var image = cases.Load("encode.image");
        using var expected = cases.Load("forward.sample");
        using var actual = model.call(image);
        Report("forward.sample", TensorAssert.CloseScaled(expected, actual, Tol, $"{goldenCase} forward.sample"), expected);
    }

    private void Report(string name, double maxAbs, torch.Tensor expected)
    {
        using var refMax = expected.abs().max();
        _output.WriteLine($"{name}: max abs {maxAbs:E3}, |ref|max {refMax.item<float>():E3}");
    }
}
