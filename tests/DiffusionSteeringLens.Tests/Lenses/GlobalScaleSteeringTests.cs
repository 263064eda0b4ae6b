using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Tests.TestSupport;
using DiffusionSteeringLens.Tests.Vit;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Lenses;

/// <summary><see cref="GlobalScaleSteering"/>: σ(o_h) = o_h + α·‖r_final‖·o_h/ν with ν the mean CLS write norm over all heads.</summary>
public sealed class GlobalScaleSteeringTests
{
    private readonly ITestOutputHelper _out;

    public GlobalScaleSteeringTests(ITestOutputHelper output) => _out = output;

    [Theory]
    [InlineData(0.5)]
    [InlineData(2)]
    public void ClosedFormEqualsTheFormulaComputedFromTheCache(double alpha)
    {
        using var scope = torch.NewDisposeScope();
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var arch = vit.Architecture;
        var heads = LensTarget.AllHeads(arch);
        var names = Enumerable.Range(0, arch.NumLayers).Select(HookNames.Result).Append(HookNames.ResidPost(arch.NumLayers - 1));
        using var run = vit.RunWithCache(pixels, CacheRequest.ForNames(names, new[] { arch.ClsIndex }));
        var final = run.Cache[HookNames.ResidPost(arch.NumLayers - 1)].select(1, 0).to(torch.float64);                                       // [B, D]
        var o = torch.cat(Enumerable.Range(0, arch.NumLayers).Select(l => run.Cache[HookNames.Result(l)].select(1, 0)).ToArray(), 1).to(torch.float64); // [B, N, D]
        var nu = o.norm(-1).mean(new long[] { 1 }, keepdim: true).unsqueeze(-1);                                                            // [B, 1, 1]
        var residual = final.unsqueeze(1) + o * (final.norm(-1, keepdim: true).unsqueeze(1) / nu * alpha);
        var expected = vit.Readout(residual.to(torch.float32));
        var actual = new SteeringLens(vit, new SteeringOptions { Steering = new GlobalScaleSteering(alpha) }).ComputeEmbeddings(pixels, heads);
        TensorAssert.CloseRelative(expected, actual, 1e-5, $"global:{alpha} vs formula");
        var clean = vit.Forward(pixels).unsqueeze(1).expand_as(actual);
        Assert.True((actual - clean).abs().max().item<float>() > 1e-3, "steering left every embedding unchanged");
    }

    [Theory]
    [InlineData(1.0, ReadoutMode.Recomputed)]
    [InlineData(3.0, ReadoutMode.Recomputed)]
    [InlineData(1.0, ReadoutMode.FrozenLayerNorm)]
    public void ClosedFormEqualsHookBasedForEveryHeadAndMlp(double alpha, ReadoutMode readout)
    {
        using var scope = torch.NewDisposeScope();
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var targets = LensTarget.AllHeads(vit.Architecture).Cast<LensTarget>().Concat(LensTarget.AllMlps(vit.Architecture)).ToArray();
        var sigma = new GlobalScaleSteering(alpha);
        var closed = new SteeringLens(vit, new SteeringOptions { Steering = sigma, Readout = readout, Computation = DslComputation.ClosedForm }).ComputeEmbeddings(pixels, targets);
        var hooked = new SteeringLens(vit, new SteeringOptions { Steering = sigma, Readout = readout, Computation = DslComputation.HookBased }).ComputeEmbeddings(pixels, targets);
        double rel = TensorAssert.CloseRelative(closed, hooked, 1e-5, $"global:{alpha} {readout}: closed form vs hooks");
        _out.WriteLine($"global:{alpha} {readout}: closed vs hooks max relative difference {rel:E2}");
    }

    [Fact]
    public void AHeadsReadoutDoesNotDependOnTheOtherRequestedTargets()
    {
        using var scope = torch.NewDisposeScope();
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var all = LensTarget.AllHeads(vit.Architecture);
        var lens = new SteeringLens(vit, new SteeringOptions { Steering = new GlobalScaleSteering(1) });
        var everyHead = lens.ComputeEmbeddings(pixels, all);
        var alone = lens.ComputeEmbeddings(pixels, new LensTarget[] { all[5] });
        var withMlp = lens.ComputeEmbeddings(pixels, new LensTarget[] { new MlpTarget(0), all[5], all[0] });
        TensorAssert.CloseRelative(everyHead.select(1, 5), alone.select(1, 0), 1e-6, "L1H1 alone vs with every head");
        TensorAssert.CloseRelative(everyHead.select(1, 5), withMlp.select(1, 1), 1e-6, "L1H1 with an MLP and another head");
    }

    [Fact]
    public void HeadsKeepTheirNormDifferencesUnlikeRelativeSteering()
    {
        // σ(o) − o is what steering adds. Global: its norm is proportional to ‖o‖ (one factor per image); relative: equal for all heads.
        using var scope = torch.NewDisposeScope();
        var o = torch.tensor(new float[] { 3, 4, 0, 0, 0, 0, 1 }).view(1, 1, 7);
        var o2 = torch.cat(new[] { o, o * 0.01 }, 1);                  // [1, 2, 7]: two heads, norms 5 and 0.05
        var reference = new SteeringReference(torch.full(new long[] { 1, 2, 1 }, 10f), torch.full(new long[] { 1, 2, 1 }, 2f));
        var added = new GlobalScaleSteering(0.5).Apply(o2, reference, new HeadTarget(0, 0)) - o2;
        var n = added.norm(-1).squeeze(0);
        Assert.Equal(0.5 * 10 / 2 * Math.Sqrt(26), n[0].item<float>(), 3);
        Assert.Equal(0.01, n[1].item<float>() / n[0].item<float>(), 5);
        var relative = new RelativeSteering(0.5).Apply(o2, reference, new HeadTarget(0, 0)) - o2;
        var rn = relative.norm(-1).squeeze(0);
        Assert.Equal(rn[0].item<float>(), rn[1].item<float>(), 4);
    }

    [Fact]
    public void ParsesAndPrintsAndNeedsTheMeanHeadNorm()
    {
        var g = SteeringFunction.Parse("global:1.5");
        Assert.Equal(new GlobalScaleSteering(1.5), g);
        Assert.Equal("global:1.5", g.ToString());
        Assert.True(g.UsesMeanHeadWriteNorm);
        Assert.False(new RelativeSteering(1).UsesMeanHeadWriteNorm);
        using var o = torch.ones(1, 4);
        using var norm = torch.ones(1, 1);
        var ex = Assert.Throws<ArgumentException>(() => g.Apply(o, new SteeringReference(norm), new HeadTarget(0, 0)));
        Assert.Contains("ν", ex.Message);
        Assert.Contains("global:<alpha>", Assert.Throws<FormatException>(() => SteeringFunction.Parse("globl:1")).Message);
    }
}
