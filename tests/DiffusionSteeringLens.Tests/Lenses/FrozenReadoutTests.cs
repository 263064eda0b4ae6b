using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;
using DiffusionSteeringLens.Tests.TestSupport;
using DiffusionSteeringLens.Tests.Vit;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Lenses;

/// <summary>
/// The frozen-LayerNorm read-out (<see cref="IHookedVit.ReadoutFrozen"/>) on the three encoder families against a float64
/// computation from the checkpoint's own weights, and the DSL's <see cref="ReadoutMode.FrozenLayerNorm"/> option.
/// </summary>
public sealed class FrozenReadoutTests
{
    private readonly ITestOutputHelper _out;

    public FrozenReadoutTests(ITestOutputHelper output) => _out = output;

    public static IEnumerable<object[]> Families() => new[] { new object[] { "clip" }, new object[] { "vit" }, new object[] { "dinov2" } };

    private static (HookedVitModel Model, string Folder) Load(string family) => family switch
    {
        "clip" => (GoldenClip.Load(), GoldenClip.Folder),
        "vit" => (FamilyGolden.LoadVit(), FamilyGolden.VitFolder),
        _ => (FamilyGolden.LoadDinov2(), FamilyGolden.Dinov2Folder),
    };

    /// <summary>ε and the read-out weights of a family, read from its config and checkpoint file (not from the model), in float64.</summary>
    private static (double Eps, torch.Tensor W, torch.Tensor B, Func<torch.Tensor, torch.Tensor> Head) Reference(string family, string folder)
    {
        torch.Tensor W64(string key) => FamilyGolden.Weight(folder, key).to(torch.float64);
        switch (family)
        {
            case "clip":
                var proj = W64("visual_projection.weight");
                return (1e-5, W64("vision_model.post_layernorm.weight"), W64("vision_model.post_layernorm.bias"), x => x.matmul(proj.t()));
            case "vit":
                var cw = W64("classifier.weight");
                var cb = W64("classifier.bias");
                return (1e-12, W64("vit.layernorm.weight"), W64("vit.layernorm.bias"), x => x.matmul(cw.t()) + cb);
            default:
                return (1e-6, W64("layernorm.weight"), W64("layernorm.bias"), x => x);
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void FrozenReadoutEqualsADirectFloat64Computation(string family)
    {
        using var scope = torch.NewDisposeScope();
        var (model, folder) = Load(family);
        using var _ = model;
        var arch = model.Architecture;
        using var g = new torch.Generator(11);
        var residual = torch.randn(new long[] { 3, 5, arch.ModelDim }, generator: g) * 4 + 1; // [3, 5, D]
        var scale = torch.rand(new long[] { 3, 1, 1 }, generator: g) * 3 + 0.5;               // any positive scale
        var (eps, w, b, head) = Reference(family, folder);

        var x = residual.to(torch.float64);
        var expected = head((x - x.mean(new long[] { -1 }, keepdim: true)) / scale.to(torch.float64) * w + b);
        var actual = model.ReadoutFrozen(residual, scale);
        double rel = TensorAssert.CloseRelative(expected, actual.to(torch.float64), 1e-5, $"{family} frozen read-out vs float64");

        var expectedScale = (x.var(-1, unbiased: false, keepdim: true) + eps).sqrt();
        TensorAssert.CloseRelative(expectedScale, model.ReadoutScale(residual).to(torch.float64), 1e-6, $"{family} read-out scale vs float64");
        _out.WriteLine($"{family}: frozen read-out max relative difference to float64 {rel:E2}");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void WithTheResidualsOwnScaleTheFrozenReadoutIsTheModelsReadout(string family)
    {
        using var scope = torch.NewDisposeScope();
        var (model, folder) = Load(family);
        using var _ = model;
        var arch = model.Architecture;
        using var run = model.RunWithCache(FamilyGolden.Pixels(folder), CacheRequest.ForNames(new[] { HookNames.ResidPost(arch.NumLayers - 1) }, new[] { arch.ClsIndex }));
        var final = run.Cache[HookNames.ResidPost(arch.NumLayers - 1)].select(1, 0); // [B, D]
        TensorAssert.CloseRelative(model.Readout(final), model.ReadoutFrozen(final, model.ReadoutScale(final)), 1e-5, $"{family} frozen(own scale) vs read-out");
        TensorAssert.CloseRelative(run.Output, model.ReadoutFrozen(final, model.ReadoutScale(final)), 1e-5, $"{family} frozen(own scale) vs forward output");
    }

    [Fact]
    public void AScaleOfTheWrongShapeIsRejectedWithBothShapes()
    {
        using var model = GoldenClip.Load();
        using var residual = torch.zeros(2, 4, model.Architecture.ModelDim);
        using var flat = torch.ones(2, 4);
        var ex = Assert.Throws<ArgumentException>(() => model.ReadoutFrozen(residual, flat));
        Assert.Contains("[2, 4]", ex.Message);
        Assert.Contains($"[2, 4, {model.Architecture.ModelDim}]", ex.Message);
        using var wide = torch.ones(2, 4, 3);
        Assert.Throws<ArgumentException>(() => model.ReadoutFrozen(residual, wide));
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void FrozenDslIsAffineInTheSteeringStrength(string family)
    {
        // Under the frozen read-out R_f(r + (α−1)·o) is affine in α, so the strength is not divided out by the norm:
        // e(α) − e(1) = (α − 1)·(e(2) − e(1)). Under the recomputed LayerNorm it is not (checked, so the test can fail).
        using var scope = torch.NewDisposeScope();
        var (model, folder) = Load(family);
        using var _ = model;
        var pixels = FamilyGolden.Pixels(folder);
        var targets = LensTarget.AllHeads(model.Architecture);
        torch.Tensor E(double alpha, ReadoutMode mode) =>
            new SteeringLens(model, new SteeringOptions { Steering = new ScaleSteering(alpha), Readout = mode }).ComputeEmbeddings(pixels, targets);
        var frozen1 = E(1, ReadoutMode.FrozenLayerNorm);
        var frozen2 = E(2, ReadoutMode.FrozenLayerNorm);
        var frozen9 = E(9, ReadoutMode.FrozenLayerNorm);
        TensorAssert.CloseScaled((frozen2 - frozen1) * 8, frozen9 - frozen1, 1e-4, $"{family} frozen DSL linear in α");
        TensorAssert.CloseRelative(model.Forward(pixels).unsqueeze(1).expand_as(frozen1), frozen1, 1e-5, $"{family} frozen DSL at α = 1 is the clean output");
        var rec1 = E(1, ReadoutMode.Recomputed);
        var rec2 = E(2, ReadoutMode.Recomputed);
        var rec9 = E(9, ReadoutMode.Recomputed);
        double nonlinearity = ((rec2 - rec1) * 8 - (rec9 - rec1)).abs().max().item<float>();
        Assert.True(nonlinearity > 1e-2, $"{family}: the recomputed read-out was (nearly) affine in α too ({nonlinearity:E2}); the check above would be vacuous");
    }

    public static IEnumerable<object[]> FamiliesAndSteerings() =>
        from f in new[] { "clip", "vit", "dinov2" }
        from s in new[] { "scale:3", "relative:0.5", "global:1.5" }
        select new object[] { f, s };

    [Theory]
    [MemberData(nameof(FamiliesAndSteerings))]
    public void FrozenClosedFormEqualsFrozenHookBased(string family, string steering)
    {
        using var scope = torch.NewDisposeScope();
        var (model, folder) = Load(family);
        using var _ = model;
        var pixels = FamilyGolden.Pixels(folder);
        var targets = LensTarget.AllHeads(model.Architecture).Cast<LensTarget>().Concat(LensTarget.AllMlps(model.Architecture)).ToArray();
        var sigma = SteeringFunction.Parse(steering);
        var closed = new SteeringLens(model, new SteeringOptions { Steering = sigma, Readout = ReadoutMode.FrozenLayerNorm, Computation = DslComputation.ClosedForm })
            .ComputeEmbeddings(pixels, targets);
        var hooked = new SteeringLens(model, new SteeringOptions { Steering = sigma, Readout = ReadoutMode.FrozenLayerNorm, Computation = DslComputation.HookBased })
            .ComputeEmbeddings(pixels, targets);
        var recomputed = new SteeringLens(model, new SteeringOptions { Steering = sigma }).ComputeEmbeddings(pixels, targets);
        double rel = TensorAssert.CloseRelative(closed, hooked, 1e-5, $"{family} {steering} frozen: closed form vs hooks");
        Assert.True((closed - recomputed).abs().max().item<float>() > 1e-3, $"{family} {steering}: the frozen read-out changed nothing");
        _out.WriteLine($"{family} {steering} frozen: closed vs hooks max relative difference {rel:E2}");
    }

    [Fact]
    public void RecomputedReadoutIsUnchangedBitForBit()
    {
        // The default (and explicit Recomputed) DSL equals R(r_final + σ(o) − o) computed from the cache with the
        // model's read-out, exactly: the frozen option must not alter the default path.
        using var scope = torch.NewDisposeScope();
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var arch = vit.Architecture;
        var heads = LensTarget.AllHeads(arch);
        const double lambda = 1;
        var byDefault = new SteeringLens(vit).ComputeEmbeddings(pixels, heads);
        var explicitMode = new SteeringLens(vit, new SteeringOptions { Steering = new RelativeSteering(lambda), Readout = ReadoutMode.Recomputed })
            .ComputeEmbeddings(pixels, heads);
        var names = Enumerable.Range(0, arch.NumLayers).Select(HookNames.Result).Append(HookNames.ResidPost(arch.NumLayers - 1));
        using var run = vit.RunWithCache(pixels, CacheRequest.ForNames(names, new[] { arch.ClsIndex }));
        var final = run.Cache[HookNames.ResidPost(arch.NumLayers - 1)].select(1, 0);                                      // [B, D]
        var o = torch.cat(Enumerable.Range(0, arch.NumLayers).Select(l => run.Cache[HookNames.Result(l)].select(1, 0)).ToArray(), 1); // [B, N, D]
        var norm = final.norm(-1, keepdim: true).unsqueeze(1).expand(o.shape[0], o.shape[1], 1);
        var steered = o + o / o.norm(-1, keepdim: true).clamp_min(1e-12) * norm * lambda;
        var expected = vit.Readout(final.unsqueeze(1) + (steered - o));
        TensorAssert.Equal(expected, byDefault, "default DSL vs R(r + σ(o) − o)");
        TensorAssert.Equal(expected, explicitMode, "Recomputed DSL vs R(r + σ(o) − o)");
    }
}
