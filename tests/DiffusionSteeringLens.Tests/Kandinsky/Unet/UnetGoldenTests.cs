using DiffusionSteeringLens.Hooks;
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
            // Observe every hook point; the activation dies with the forward pass: keep a copy owned by this test's scope.
            var observe = model.HookPointNames.Select(n => new HookBinding(n, (t, name) =>
            {
                var copy = t.detach().clone().DetachFromDisposeScope();
                scope.Attach(copy);
                captured[name] = copy;
                return t;
            })).ToList();
            actual = model.RunWithHooks(sample, timestep, imageEmbeds, observe);
        }

        double err = TensorAssert.CloseScaled(expectedOutput, actual, Tolerance, $"{goldenCase} output");
        _output.WriteLine($"{goldenCase} output: max abs err {err:E3}");

        // Predict (no hooks, no grad) is the same computation; its warm time is reported.
        var watch = new System.Diagnostics.Stopwatch();
        double best = double.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            watch.Restart();
            using var predicted = model.Predict(sample, timestep, imageEmbeds);
            best = Math.Min(best, watch.Elapsed.TotalMilliseconds);
            TensorAssert.CloseScaled(actual, predicted, 0, $"{goldenCase} Predict vs Forward");
        }
        _output.WriteLine($"{goldenCase} Predict: {best:F1} ms (best of 3)");

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

    /// <summary>A float64 model (load-time upcast of the fp32 checkpoint) matches the reference output too.</summary>
    [Theory]
    [Trait("Category", "Golden")]
    [MemberData(nameof(Cases))]
    public void Float64ModelMatchesReference(GoldenCase goldenCase)
    {
        goldenCase.EnsurePresent();
        using var scope = torch.NewDisposeScope();
        using var model = UNet2DConditionModel.FromPretrained(goldenCase.Folder,
            new DiffusionSteeringLens.Runtime.ModelLoadOptions { DType = torch.ScalarType.Float64 });
        Assert.Equal(torch.ScalarType.Float64, model.DType);
        using var cases = goldenCase.OpenCases();
        string p = goldenCase.Name + ".";
        using var actual = model.Predict(cases.Load(p + "sample"), cases.Load(p + "timestep"), cases.Load(p + "image_embeds"));
        Assert.Equal(torch.ScalarType.Float64, actual.dtype);
        double err = TensorAssert.CloseScaled(cases.Load(p + "output"), actual, Tolerance, $"{goldenCase} float64 output");
        _output.WriteLine($"{goldenCase} float64 output: max abs err {err:E3}");
    }
}
