using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Kandinsky.Unet;

/// <summary>Parity with diffusers' UNet2DConditionModel on the golden cases (output and every debug intermediate).</summary>
public sealed class UnetGoldenTests
{
    private const double Tolerance = 1e-4;
    private readonly ITestOutputHelper _output;

    /// <summary>Creates the test class.</summary>
    public UnetGoldenTests(ITestOutputHelper output) => _output = output;

    /// <summary>Every case in the built-in (and extra) unet fixtures.</summary>
    public static IEnumerable<object[]> Cases() => Fixtures.Cases("unet", f => Fixtures.PrefixCases(f));

    /// <summary>Output and intermediates match the reference within 1e-4 × max(1, |ref|max).</summary>
    [Theory]
    [Trait("Category", "Golden")]
    [MemberData(nameof(Cases))]
    public void OutputAndIntermediatesMatchReference(GoldenCase goldenCase)
    {
        goldenCase.EnsurePresent();
        using var scope = torch.NewDisposeScope();
        using var model = UNet2DConditionModel.FromPretrained(goldenCase.Folder);
        using var cases = goldenCase.OpenCases();
        string p = goldenCase.Name + ".";
        var sample = cases.Load(p + "sample");
        var timestep = cases.Load(p + "timestep");
        var imageEmbeds = cases.Load(p + "image_embeds");
        var expectedOutput = cases.Load(p + "output");

        var captured = new Dictionary<string, torch.Tensor>(StringComparer.Ordinal);
        torch.Tensor actual;
        using (torch.no_grad())
        {
            actual = model.Forward(sample, timestep, imageEmbeds, (name, t) =>
            {
                // The tapped tensor dies with the forward pass: keep a copy owned by this test's scope.
                var copy = t.detach().clone().DetachFromDisposeScope();
                scope.Attach(copy);
                captured[name] = copy;
            });
        }

        double err = TensorAssert.CloseScaled(expectedOutput, actual, Tolerance, $"{goldenCase} output");
        _output.WriteLine($"{goldenCase} output: max abs err {err:E3}");

        using (var predicted = model.Predict(sample, timestep, imageEmbeds))
            TensorAssert.CloseScaled(actual, predicted, 0, $"{goldenCase} Predict vs Forward");

        string debugPrefix = p + "debug.";
        var debugNames = cases.Names.Where(n => n.StartsWith(debugPrefix, StringComparison.Ordinal)).OrderBy(n => n, StringComparer.Ordinal).ToList();
        Assert.NotEmpty(debugNames);
        foreach (var full in debugNames)
        {
            var name = full[debugPrefix.Length..];
            Assert.True(captured.TryGetValue(name, out var got), $"{goldenCase}: the forward pass did not report '{name}'.");
            var expected = cases.Load(full);
            double e = TensorAssert.CloseScaled(expected, got!, Tolerance, $"{goldenCase} debug.{name}");
            _output.WriteLine($"{goldenCase} debug.{name}: max abs err {e:E3}");
        }
    }
}
