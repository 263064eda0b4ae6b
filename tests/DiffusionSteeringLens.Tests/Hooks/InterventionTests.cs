using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Tests.TestSupport;
using DiffusionSteeringLens.Tests.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Hooks;

/// <summary>Intervention factories against independent recomputations.</summary>
public sealed class InterventionTests
{
    [Theory]
    [InlineData(0, 1, HeadSite.Z)]
    [InlineData(1, 3, HeadSite.Z)]
    [InlineData(1, 0, HeadSite.Result)]
    public void ZeroAblatingAHeadEqualsZeroingItsOutProjColumns(int layer, int head, HeadSite site)
    {
        using var model = GoldenClip.Load();
        using var edited = GoldenClip.Load();
        using var x = GoldenClip.Pixels();
        int d = model.Architecture.HeadDim;
        using (torch.no_grad())
            edited.OutProjWeight(layer).narrow(1, head * d, d).zero_();
        using var want = edited.Forward(x);
        using var got = model.RunWithHooks(x, new[] { Interventions.ZeroAblateHead(layer, head, site: site) });
        TensorAssert.CloseScaled(want, got, 1e-6, $"L{layer}H{head} {site}");
        using var clean = model.Forward(x);
        Assert.True((clean - got).abs().max().item<float>() > 1e-4, "ablation had no effect");
    }

    [Fact]
    public void ZeroAblationAtPositionsTouchesOnlyThoseRows()
    {
        using var model = GoldenClip.Load();
        using var x = GoldenClip.Pixels();
        var name = HookNames.Z(0);
        using var clean = model.RunWithCache(x, CacheRequest.ForNames(new[] { name }));
        using var run = model.RunWithCache(x, CacheRequest.ForNames(new[] { name }), new[] { Interventions.ZeroAblateHead(0, 2, new[] { 0, 3 }) });
        var z = run.Cache[name];
        var c = clean.Cache[name];
        using var mask = torch.ones(2, 17, 4, 8);
        mask[.., 0, 2, ..].fill_(0);
        mask[.., 3, 2, ..].fill_(0);
        using var want = c * mask;
        TensorAssert.Equal(want, z, "zeroed rows");
    }

    [Fact]
    public void MeanAblationUsesTheSuppliedMean()
    {
        using var model = GoldenClip.Load();
        using var reference = GoldenClip.RandomPixels(4, 3);
        using var x = GoldenClip.Pixels();
        var name = HookNames.Result(1);
        using var refRun = model.RunWithCache(reference, CacheRequest.ForNames(new[] { name, HookNames.MlpOut(0) }));
        using var mean = Interventions.MeanOverBatch(refRun.Cache, name);           // [T, H, D]
        using var mlpMean = Interventions.MeanOverBatch(refRun.Cache, HookNames.MlpOut(0)); // [T, D]
        using var run = model.RunWithCache(x, CacheRequest.ForNames(new[] { name, HookNames.MlpOut(0) }), new[]
        {
            Interventions.MeanAblateHead(1, 2, mean, site: HeadSite.Result),
            Interventions.MeanAblateMlp(0, mlpMean, new[] { 0 }),
        });
        using var headGot = run.Cache[name].select(2, 2);
        using var headWant = mean.select(1, 2).unsqueeze(0).expand(2, 17, 32);
        TensorAssert.Equal(headWant.contiguous(), headGot.contiguous(), "head 2 = mean");
        using var mlp0 = run.Cache[HookNames.MlpOut(0)].select(1, 0);
        using var mlpWant = mlpMean[0].unsqueeze(0).expand(2, 32);
        TensorAssert.Equal(mlpWant.contiguous(), mlp0.contiguous(), "MLP CLS row = mean");
    }

    [Fact]
    public void ZeroAblatingAnMlpRemovesItsOutput()
    {
        using var model = GoldenClip.Load();
        using var x = GoldenClip.Pixels();
        using var clean = model.RunWithCache(x, CacheRequest.All);
        using var run = model.RunWithCache(x, CacheRequest.All, new[] { Interventions.ZeroAblateMlp(1) });
        TensorAssert.Equal(clean.Cache[HookNames.ResidMid(1)], run.Cache[HookNames.ResidPost(1)], "resid_post = resid_mid");
        using var readout = model.Readout(clean.Cache[HookNames.ResidMid(1)].select(1, 0));
        TensorAssert.CloseScaled(readout, run.Output, 1e-6, "output = R(resid_mid CLS)");
    }

    [Theory]
    [InlineData("blocks.0.hook_resid_post", "blocks.1.hook_resid_post")]
    [InlineData("blocks.1.ln1.hook_normalized", "blocks.1.hook_attn_out")]
    [InlineData("blocks.0.attn.hook_z", "blocks.0.hook_attn_out")]
    [InlineData("blocks.1.attn.hook_q,blocks.1.attn.hook_k", "blocks.1.attn.hook_pattern")]
    [InlineData("blocks.0.ln2.hook_normalized", "blocks.0.hook_mlp_out")]
    public void PatchingFromAnotherRunReproducesItsDownstreamValues(string sites, string downstream)
    {
        using var model = GoldenClip.Load();
        using var a = GoldenClip.RandomPixels(2, 21);
        using var b = GoldenClip.RandomPixels(2, 22);
        var all = new CacheRequest { NameFilter = _ => true };
        using var runA = model.RunWithCache(a, all);
        using var runB = model.RunWithCache(b, all);
        var hooks = sites.Split(',').Select(s => Interventions.Patch(s, runB.Cache[s])).ToList();
        using var patched = model.RunWithCache(a, all, hooks);
        TensorAssert.CloseScaled(runB.Cache[downstream], patched.Cache[downstream], 1e-6, $"{sites} → {downstream}");
        using var diff = (runA.Cache[downstream] - runB.Cache[downstream]).abs().max();
        Assert.True(diff.item<float>() > 1e-3, "inputs too similar for the test to mean anything");
        if (sites == HookNames.ResidPost(0)) TensorAssert.CloseScaled(runB.Output, patched.Output, 1e-6, "output");
    }

    [Fact]
    public void PatchingAtPositionsReplacesOnlyThoseRows()
    {
        using var model = GoldenClip.Load();
        using var a = GoldenClip.RandomPixels(2, 31);
        using var b = GoldenClip.RandomPixels(2, 32);
        var site = HookNames.ResidMid(0);
        using var runA = model.RunWithCache(a, CacheRequest.ForNames(new[] { site }));
        using var runB = model.RunWithCache(b, CacheRequest.ForNames(new[] { site }));
        using var patched = model.RunWithCache(a, CacheRequest.ForNames(new[] { site }), new[] { Interventions.Patch(site, runB.Cache[site], new[] { 0, 7 }) });
        var got = patched.Cache[site];
        for (int t = 0; t < 17; t++)
        {
            using var row = got.select(1, t);
            using var want = (t is 0 or 7 ? runB : runA).Cache[site].select(1, t);
            TensorAssert.Equal(want, row, $"token {t}");
        }
    }

    [Fact]
    public void SteeringAddsAndScalesAtChosenPositions()
    {
        using var model = GoldenClip.Load();
        using var x = GoldenClip.Pixels();
        var site = HookNames.AttnOut(1);
        using var v = torch.linspace(-1, 1, 32);
        using var clean = model.RunWithCache(x, CacheRequest.ForNames(new[] { site }));
        using var steered = model.RunWithCache(x, CacheRequest.ForNames(new[] { site }), new[]
        {
            Interventions.Scale(site, 3.0, new[] { 0 }),
            Interventions.AddVector(site, v, 0.5, new[] { 0, 2 }),
        });
        var c = clean.Cache[site];
        var s = steered.Cache[site];
        using var r0 = c.select(1, 0) * 3.0 + v * 0.5;
        using var r2 = c.select(1, 2) + v * 0.5;
        TensorAssert.CloseScaled(r0, s.select(1, 0), 1e-6, "CLS scaled then shifted");
        TensorAssert.CloseScaled(r2, s.select(1, 2), 1e-6, "token 2 shifted");
        TensorAssert.Equal(c.select(1, 5).contiguous(), s.select(1, 5).contiguous(), "token 5 untouched");
        // Scale(α = 1) everywhere is the identity; steering the output changes the read-out as the closed form says.
        using var id = model.RunWithHooks(x, new[] { Interventions.Scale(site, 1.0) });
        using var plain = model.Forward(x);
        TensorAssert.Equal(plain, id, "alpha 1");
    }
}
