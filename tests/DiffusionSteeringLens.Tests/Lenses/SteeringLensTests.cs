using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Tests.TestSupport;
using DiffusionSteeringLens.Tests.Vit;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Lenses;

public sealed class SteeringLensTests
{
    private readonly ITestOutputHelper _out;

    public SteeringLensTests(ITestOutputHelper output) => _out = output;

    public static IEnumerable<object[]> Steerings() => new[]
    {
        new object[] { "scale:3" }, new object[] { "scale:-2" }, new object[] { "relative:1.5" }, new object[] { "relative:0.25" },
    };

    [Theory]
    [MemberData(nameof(Steerings))]
    public void ClosedFormEqualsHookBasedForEveryHeadAndMlp(string steering)
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var targets = LensTarget.AllHeads(vit.Architecture).Cast<LensTarget>().Concat(LensTarget.AllMlps(vit.Architecture)).ToArray();
        var sigma = SteeringFunction.Parse(steering);
        var closed = new SteeringLens(vit, new SteeringOptions { Steering = sigma, Computation = DslComputation.ClosedForm });
        var hooked = new SteeringLens(vit, new SteeringOptions { Steering = sigma, Computation = DslComputation.HookBased });
        Assert.True(closed.UsesClosedForm);
        Assert.False(hooked.UsesClosedForm);
        using var a = closed.ComputeEmbeddings(pixels, targets);
        using var b = hooked.ComputeEmbeddings(pixels, targets);
        Assert.Equal(new long[] { 2, targets.Length, vit.Architecture.OutputDim }, a.shape);
        double rel = TensorAssert.CloseRelative(b, a, 1e-5, $"DSL {steering}: closed form vs hooks");
        _out.WriteLine($"{steering}: {targets.Length} targets, max relative difference {rel:E2}");
    }

    [Fact]
    public void AllTokenScopeAgreesWithClosedFormUnderFullPatching()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var targets = LensTarget.AllHeads(vit.Architecture).Cast<LensTarget>().Concat(LensTarget.AllMlps(vit.Architecture)).ToArray();
        var sigma = new RelativeSteering(2);
        using var closed = new SteeringLens(vit, new SteeringOptions { Steering = sigma }).ComputeEmbeddings(pixels, targets);
        using var allTokens = new SteeringLens(vit, new SteeringOptions { Steering = sigma, Scope = SteeringScope.AllTokens, Computation = DslComputation.HookBased })
            .ComputeEmbeddings(pixels, targets);
        TensorAssert.CloseRelative(closed, allTokens, 1e-5, "all-token scope vs closed form");
    }

    [Fact]
    public void ScaleOneGivesTheCleanEmbeddingForEveryTarget()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var targets = LensTarget.AllHeads(vit.Architecture).Cast<LensTarget>().Concat(LensTarget.AllMlps(vit.Architecture)).ToArray();
        using var clean = vit.Forward(pixels);
        foreach (var computation in new[] { DslComputation.ClosedForm, DslComputation.HookBased })
        {
            using var e = new SteeringLens(vit, new SteeringOptions { Steering = new ScaleSteering(1), Computation = computation })
                .ComputeEmbeddings(pixels, targets);
            using var expected = clean.unsqueeze(1).expand_as(e);
            TensorAssert.CloseRelative(expected, e, 1e-5, $"Scale(1) {computation}");
        }
    }

    [Fact]
    public void PartialPatchingDiffersFromFullAndNoPatchingIsTheTotalEffect()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var head = new LensTarget[] { new HeadTarget(0, 1) };
        var sigma = new ScaleSteering(4);
        using var full = new SteeringLens(vit, new SteeringOptions { Steering = sigma }).ComputeEmbeddings(pixels, head);
        using var freeze = new SteeringLens(vit, new SteeringOptions { Steering = sigma, Patching = PatchingMode.FreezeAttention }).ComputeEmbeddings(pixels, head);
        using var none = new SteeringLens(vit, new SteeringOptions { Steering = sigma, Patching = PatchingMode.None, Scope = SteeringScope.AllTokens })
            .ComputeEmbeddings(pixels, head);
        using var total = vit.RunWithHooks(pixels, new[] { DiffusionSteeringLens.Hooks.Interventions.ScaleHead(0, 1, 4) });
        TensorAssert.CloseRelative(total.unsqueeze(1), none, 1e-5, "no patching, all tokens == scaling the head in a normal run");
        using var noneCls = new SteeringLens(vit, new SteeringOptions { Steering = sigma, Patching = PatchingMode.None }).ComputeEmbeddings(pixels, head);
        using var totalCls = vit.RunWithHooks(pixels, new[] { DiffusionSteeringLens.Hooks.Interventions.ScaleHead(0, 1, 4, positions: new[] { 0 }) });
        TensorAssert.CloseRelative(totalCls.unsqueeze(1), noneCls, 1e-5, "no patching, CLS only == scaling the head's CLS row");
        Assert.True((full - freeze).abs().max().item<float>() > 1e-4, "letting later MLPs recompute must change the read-out");
    }

    [Fact]
    public void CustomSteeringIsAppliedPerTarget()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var targets = new LensTarget[] { new HeadTarget(1, 0), new MlpTarget(0) };
        var custom = new CustomSteering("double-heads", (o, _, t) => t is HeadTarget ? o * 2 : o * 1);
        using var e = new SteeringLens(vit, new SteeringOptions { Steering = custom }).ComputeEmbeddings(pixels, targets);
        using var scale2 = new SteeringLens(vit, new SteeringOptions { Steering = new ScaleSteering(2) }).ComputeEmbeddings(pixels, targets[..1]);
        using var clean = vit.Forward(pixels);
        TensorAssert.CloseRelative(scale2.select(1, 0), e.select(1, 0), 1e-6, "custom σ on the head");
        TensorAssert.CloseRelative(clean, e.select(1, 1), 1e-5, "custom identity σ on the MLP");
    }

    [Fact]
    public void BadTargetsAndCancellationAreClear()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var dsl = new SteeringLens(vit);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => dsl.ComputeEmbeddings(pixels, new LensTarget[] { new HeadTarget(5, 0) }));
        Assert.Contains("L5H0", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => dsl.ComputeEmbeddings(pixels, new LensTarget[] { new HeadTarget(0, 9) }));
        Assert.Throws<ArgumentException>(() => dsl.ComputeEmbeddings(pixels, new LensTarget[] { new ResidualTarget(1, ResidualPosition.Post) }));
        using var wrong = torch.zeros(1, 3, 8, 8);
        Assert.Contains("[1, 3, 8, 8]", Assert.Throws<ArgumentException>(() => dsl.ComputeEmbeddings(wrong, new LensTarget[] { new HeadTarget(0, 0) })).Message);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var hooked = new SteeringLens(vit, new SteeringOptions { Computation = DslComputation.HookBased });
        Assert.ThrowsAny<OperationCanceledException>(() => hooked.ComputeEmbeddings(pixels, new LensTarget[] { new HeadTarget(0, 0) }, null, cts.Token));
    }

    [Theory]
    [InlineData("L36H4", "L36H4")]
    [InlineData("mlp:30", "mlp:30")]
    [InlineData("resid_post:5", "resid_post:5")]
    [InlineData("l2h3", "L2H3")]
    public void TargetsParseAndPrint(string text, string label) => Assert.Equal(label, LensTarget.Parse(text).Label);

    [Fact]
    public void BadTargetAndSteeringTextAreFormatErrors()
    {
        Assert.Contains("L<layer>H<head>", Assert.Throws<FormatException>(() => LensTarget.Parse("head 3")).Message);
        Assert.Contains("scale:<alpha>", Assert.Throws<FormatException>(() => SteeringFunction.Parse("boost:2")).Message);
        Assert.Equal(new RelativeSteering(1.5), SteeringFunction.Parse("relative:1.5"));
    }
}
