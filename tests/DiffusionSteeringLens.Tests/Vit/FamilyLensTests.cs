using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Vit;

/// <summary>
/// Hooks, cache, DL/DSL read-outs and the Logit Lens on the ViT and DINOv2 families, through the unchanged lens code.
/// Read-outs are checked against the golden residual stream and the read-out weights read straight from the checkpoint.
/// </summary>
public sealed class FamilyLensTests
{
    private readonly ITestOutputHelper _out;

    public FamilyLensTests(ITestOutputHelper output) => _out = output;

    public static IEnumerable<object[]> Families() => new[] { new object[] { "vit" }, new object[] { "dinov2" } };

    private static (HookedVitModel Model, string Folder) Load(string family) => family switch
    {
        "vit" => (FamilyGolden.LoadVit(), FamilyGolden.VitFolder),
        _ => (FamilyGolden.LoadDinov2(), FamilyGolden.Dinov2Folder),
    };

    /// <summary>
    /// The family's read-out computed by hand from checkpoint weights: ViT → final LayerNorm then classifier (logits);
    /// DINOv2 → final LayerNorm (the pooled output).
    /// </summary>
    private static torch.Tensor ReferenceReadout(string family, string folder, torch.Tensor residual)
    {
        var prefix = family == "vit" ? "vit." : "";
        double eps = family == "vit" ? 1e-12 : 1e-6;
        var normed = torch.nn.functional.layer_norm(residual, new[] { residual.shape[^1] },
            FamilyGolden.Weight(folder, prefix + "layernorm.weight"), FamilyGolden.Weight(folder, prefix + "layernorm.bias"), eps);
        return family == "vit"
            ? torch.nn.functional.linear(normed, FamilyGolden.Weight(folder, "classifier.weight"), FamilyGolden.Weight(folder, "classifier.bias"))
            : normed;
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void DiffusionLensReadsEveryLayerOutTheWayTheFamilyDoes(string family)
    {
        using var scope = torch.NewDisposeScope();
        var (model, folder) = Load(family);
        using var _ = model;
        int layers = model.Architecture.NumLayers;
        var targets = Enumerable.Range(0, layers).Select(l => (LensTarget)new ResidualTarget(l, ResidualPosition.Pre))
            .Append(new ResidualTarget(layers - 1, ResidualPosition.Post)).ToArray();
        var pixels = FamilyGolden.Pixels(folder);
        var embeddings = new DiffusionLens(model).ComputeEmbeddings(pixels, targets); // [B, N, P]
        Assert.Equal(new long[] { pixels.shape[0], targets.Length, model.Architecture.OutputDim }, embeddings.shape);
        for (int i = 0; i <= layers; i++)
        {
            var cls = FamilyGolden.Case(folder, $"hidden_states.{i}").select(1, 0);
            var expected = ReferenceReadout(family, folder, cls);
            double err = TensorAssert.CloseScaled(expected, embeddings.select(1, i), 1e-4, $"{family} DL {targets[i].Label}");
            _out.WriteLine($"{family} {targets[i].Label}: max abs error {err:E2}");
        }
        // The last read-out is the model's own output.
        var output = FamilyGolden.Case(folder, family == "vit" ? "logits" : "pooler_output");
        TensorAssert.CloseScaled(output, embeddings.select(1, layers), 1e-4, $"{family} DL final == model output");
    }

    [Fact]
    public void VitClassifierMakesARealLogitLens()
    {
        using var scope = torch.NewDisposeScope();
        using var vit = FamilyGolden.LoadVit();
        var pixels = FamilyGolden.Pixels(FamilyGolden.VitFolder);
        int k = vit.Labels.Count, layers = vit.Architecture.NumLayers;
        // The read-out already ends in the classifier, so the label matrix is the identity and scores are dot products.
        var lens = new LogitLens(vit, torch.eye(k), vit.Labels, cosine: false);
        var final = new LensTarget[] { new ResidualTarget(layers - 1, ResidualPosition.Post) };
        var logits = lens.Logits(pixels, final).select(1, 0);
        var golden = FamilyGolden.Case(FamilyGolden.VitFolder, "logits");
        TensorAssert.CloseScaled(golden, logits, 1e-4, "Logit Lens at the last layer == ViT logits");

        var top = lens.TopK(pixels, final, 1);
        var argmax = golden.argmax(-1).data<long>().ToArray();
        for (int b = 0; b < argmax.Length; b++)
            Assert.Equal(vit.Labels[(int)argmax[b]], top.Single(e => e.ImageIndex == b).Label);

        // Earlier layers: logits of the residual stream as it was then, under the same head.
        var early = lens.Logits(pixels, new LensTarget[] { new ResidualTarget(0, ResidualPosition.Post) }).select(1, 0);
        var hidden1 = FamilyGolden.Case(FamilyGolden.VitFolder, "hidden_states.1").select(1, 0);
        TensorAssert.CloseScaled(ReferenceReadout("vit", FamilyGolden.VitFolder, hidden1), early, 1e-4, "Logit Lens at resid_post:0");
        _out.WriteLine($"top-1 labels: {string.Join(", ", top.Select(e => e.Label))}");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void SteeringLensClosedFormEqualsHookBasedForEveryHeadAndMlp(string family)
    {
        using var scope = torch.NewDisposeScope();
        var (model, folder) = Load(family);
        using var _ = model;
        var pixels = FamilyGolden.Pixels(folder);
        var targets = LensTarget.AllHeads(model.Architecture).Cast<LensTarget>().Concat(LensTarget.AllMlps(model.Architecture)).ToArray();
        foreach (var sigma in new SteeringFunction[] { new ScaleSteering(3), new RelativeSteering(0.5) })
        {
            var closed = new SteeringLens(model, new SteeringOptions { Steering = sigma, Computation = DslComputation.ClosedForm })
                .ComputeEmbeddings(pixels, targets);
            var hooked = new SteeringLens(model, new SteeringOptions { Steering = sigma, Computation = DslComputation.HookBased })
                .ComputeEmbeddings(pixels, targets);
            var clean = model.Forward(pixels).unsqueeze(1).expand_as(closed);
            double rel = TensorAssert.CloseRelative(hooked, closed, 1e-5, $"{family} DSL {sigma}: closed form vs hooks");
            // Steering must move the read-out away from the clean output (else the test would pass vacuously).
            Assert.True((closed - clean).abs().max().item<float>() > 1e-3, $"{family} DSL {sigma} left every embedding unchanged");
            _out.WriteLine($"{family} {sigma}: {targets.Length} targets, closed vs hooks max relative difference {rel:E2}");
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void ResidualDecompositionSumsToTheFinalResidual(string family)
    {
        using var scope = torch.NewDisposeScope();
        var (model, folder) = Load(family);
        using var _ = model;
        var arch = model.Architecture;
        var names = Enumerable.Range(0, arch.NumLayers)
            .SelectMany(l => new[] { HookNames.Result(l), HookNames.AttnOut(l), HookNames.MlpOut(l) })
            .Append(HookNames.LnPre).Append(HookNames.ResidPost(arch.NumLayers - 1));
        using var run = model.RunWithCache(FamilyGolden.Pixels(folder), CacheRequest.ForNames(names));
        using var d = run.Cache.Decompose();
        Assert.Equal(1 + arch.NumLayers * (arch.NumHeads + 2), d.Names.Count);
        var final = FamilyGolden.Case(folder, $"hidden_states.{arch.NumLayers}");
        double err = TensorAssert.CloseScaled(final, d.Components.sum(new long[] { 0 }), 1e-4, $"{family}: Σ components == last hidden state");
        // The per-head components are the golden per-head contributions (scaled by λ₁ for DINOv2).
        var heads = d.Components.narrow(0, 1, arch.NumHeads).permute(1, 2, 0, 3); // [B, T, H, D]
        TensorAssert.CloseScaled(FamilyGolden.Case(folder, "layers.0.head_contributions"), heads, 1e-4, $"{family}: layer-0 head components");
        _out.WriteLine($"{family}: {d.Names.Count} components, Σ vs hidden_states.{arch.NumLayers} max abs error {err:E2}");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void HeadAblationAtZAndAtResultAgreeAndChangeTheOutput(string family)
    {
        using var scope = torch.NewDisposeScope();
        var (model, folder) = Load(family);
        using var _ = model;
        var pixels = FamilyGolden.Pixels(folder);
        var clean = model.Forward(pixels);
        var atZ = model.RunWithHooks(pixels, new[] { Interventions.ZeroAblateHead(1, 2, site: HeadSite.Z) });
        var atResult = model.RunWithHooks(pixels, new[] { Interventions.ZeroAblateHead(1, 2, site: HeadSite.Result) });
        TensorAssert.CloseScaled(atZ, atResult, 1e-5, $"{family}: ablating L1H2 at hook_z vs hook_result");
        Assert.True((atZ - clean).abs().max().item<float>() > 1e-4, $"{family}: ablating L1H2 changed nothing");
        // Plain runs after a hooked one are clean again (per-run state).
        TensorAssert.CloseAbsolute(clean, model.Forward(pixels), 0, $"{family}: forward after a hooked run");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void PositionFilterKeepsOnlyTheRequestedTokens(string family)
    {
        using var scope = torch.NewDisposeScope();
        var (model, folder) = Load(family);
        using var _ = model;
        var pixels = FamilyGolden.Pixels(folder);
        int last = model.Architecture.NumTokens - 1;
        var names = new[] { HookNames.ResidPost(1), HookNames.Pattern(0), HookNames.Result(1), HookNames.LnFinal };
        using var all = model.RunWithCache(pixels, CacheRequest.ForNames(names));
        using var some = model.RunWithCache(pixels, CacheRequest.ForNames(names, new[] { last, 0 }));
        var index = torch.tensor(new long[] { last, 0 });
        TensorAssert.Equal(all.Cache[HookNames.ResidPost(1)].index_select(1, index), some.Cache[HookNames.ResidPost(1)], $"{family} resid_post");
        TensorAssert.Equal(all.Cache[HookNames.Pattern(0)].index_select(2, index), some.Cache[HookNames.Pattern(0)], $"{family} pattern (query axis)");
        TensorAssert.Equal(all.Cache[HookNames.Result(1)].index_select(1, index), some.Cache[HookNames.Result(1)], $"{family} hook_result");
        TensorAssert.Equal(all.Cache[HookNames.LnFinal], some.Cache[HookNames.LnFinal], $"{family} ln_final (no token axis)");
        Assert.Throws<ArgumentOutOfRangeException>(() => model.RunWithCache(pixels, CacheRequest.ForNames(names, new[] { last + 1 })));
    }
}
