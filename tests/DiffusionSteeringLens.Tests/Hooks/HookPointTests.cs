using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Tests.TestSupport;
using DiffusionSteeringLens.Tests.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Hooks;

/// <summary>Hook points: transparency, caching rules, positions filter, batching, per-run isolation.</summary>
public sealed class HookPointTests
{
    [Fact]
    public void NoHooksEqualsPlainForwardExactly()
    {
        using var model = GoldenClip.Load();
        using var x = GoldenClip.Pixels();
        using var plain = model.Forward(x);
        using var hooked = model.RunWithHooks(x, Array.Empty<HookBinding>());
        using var run = model.RunWithCache(x, CacheRequest.All);
        TensorAssert.Equal(plain, hooked, "no hooks");
        TensorAssert.Equal(plain, run.Output, "cached run");
    }

    [Fact]
    public void IdentityHooksOnEveryPointChangeNothing()
    {
        using var model = GoldenClip.Load();
        using var x = GoldenClip.Pixels();
        int calls = 0;
        var hooks = model.HookPointNames.Select(n => new HookBinding(n, (t, _) => { calls++; return t; })).ToList();
        using var plain = model.Forward(x);
        using var hooked = model.RunWithHooks(x, hooks);
        // Hooking the on-demand result switches attention to Σ_h result + bias: equal up to summation order.
        TensorAssert.CloseScaled(plain, hooked, 1e-6, "identity on every point");
        Assert.Equal(model.HookPointNames.Count, calls);
        var cheap = model.HookPointNames.Where(n => !HookNames.IsOnDemand(n)).Select(n => new HookBinding(n, (t, _) => t)).ToList();
        using var hookedCheap = model.RunWithHooks(x, cheap);
        TensorAssert.Equal(plain, hookedCheap, "identity on every cheap point");
    }

    [Fact]
    public void HookPointNamesCoverEveryDocumentedSite()
    {
        using var model = GoldenClip.Load();
        var names = model.HookPointNames.ToHashSet();
        var expected = new List<string> { HookNames.Embed, HookNames.PosEmbed, HookNames.LnPre, HookNames.LnFinal, HookNames.ImageEmbeds };
        for (int l = 0; l < 2; l++)
            expected.AddRange(new[]
            {
                HookNames.ResidPre(l), HookNames.ResidMid(l), HookNames.ResidPost(l), HookNames.AttnOut(l), HookNames.MlpOut(l),
                HookNames.Ln1(l), HookNames.Ln2(l), HookNames.Q(l), HookNames.K(l), HookNames.V(l), HookNames.Pattern(l),
                HookNames.Z(l), HookNames.Result(l), HookNames.MlpPre(l), HookNames.MlpPost(l),
            });
        Assert.Equal(expected.OrderBy(s => s), names.OrderBy(s => s));
    }

    [Fact]
    public void OnDemandPointsAbsentUnlessRequested()
    {
        using var model = GoldenClip.Load();
        using var x = GoldenClip.Pixels();
        using (var run = model.RunWithCache(x, CacheRequest.All))
        {
            Assert.DoesNotContain(run.Cache.Keys, HookNames.IsOnDemand);
            Assert.Contains(HookNames.Z(0), run.Cache.Keys);
            var e = Assert.Throws<KeyNotFoundException>(() => run.Cache[HookNames.Result(0)]);
            Assert.Contains("hook_result", e.Message);
        }
        using (var run = model.RunWithCache(x, CacheRequest.ForNames(new[] { HookNames.Result(1), HookNames.Pattern(0) })))
        {
            Assert.Equal(new[] { HookNames.Pattern(0), HookNames.Result(1) }, run.Cache.Keys.OrderBy(k => k));
            Assert.Equal(new long[] { 2, 17, 4, 32 }, run.Cache[HookNames.Result(1)].shape);
        }
    }

    [Fact]
    public void PositionsFilterKeepsTheRightRows()
    {
        using var model = GoldenClip.Load();
        using var x = GoldenClip.Pixels();
        var positions = new[] { 5, 0, 16 };
        using var full = model.RunWithCache(x, new CacheRequest { NameFilter = _ => true });
        using var some = model.RunWithCache(x, new CacheRequest { NameFilter = _ => true, Positions = positions });
        TensorAssert.Equal(full.Output, some.Output, "output unaffected by the filter");
        using var idx = torch.tensor(positions.Select(p => (long)p).ToArray());
        foreach (var name in full.Cache.Keys)
        {
            var axis = HookPointLayout.TokenAxis(name);
            using var want = axis is int a ? full.Cache[name].index_select(a, idx) : full.Cache[name].clone();
            TensorAssert.Equal(want, some.Cache[name], name);
        }
        Assert.Equal(new long[] { 2, 4, 3, 17 }, some.Cache[HookNames.Pattern(0)].shape);
        Assert.Equal(1, some.Cache.TokenIndex(0));
    }

    [Fact]
    public void BatchedRunEqualsOneAtATime()
    {
        using var model = GoldenClip.Load();
        using var x = GoldenClip.RandomPixels(3, 11);
        var hooks = new[] { Interventions.ZeroAblateHead(1, 2), Interventions.AddVector(HookNames.ResidMid(0), torch.ones(32), 0.3, new[] { 0, 4 }) };
        var request = new CacheRequest { NameFilter = _ => true };
        using var batched = model.RunWithCache(x, request, hooks);
        for (int i = 0; i < 3; i++)
        {
            using var xi = x.narrow(0, i, 1);
            using var single = model.RunWithCache(xi, request, hooks);
            using var row = batched.Output.narrow(0, i, 1);
            TensorAssert.CloseScaled(row, single.Output, 1e-6, $"output row {i}");
            foreach (var name in single.Cache.Keys)
            {
                using var b = batched.Cache[name].narrow(0, i, 1);
                TensorAssert.CloseScaled(b, single.Cache[name], 1e-6, $"{name} row {i}");
            }
        }
    }

    [Fact]
    public void CachedValuesArePostHookAndHooksApplyInOrder()
    {
        using var model = GoldenClip.Load();
        using var x = GoldenClip.Pixels();
        var site = HookNames.ResidMid(0);
        var order = new List<int>();
        var hooks = new[]
        {
            new HookBinding(site, (t, _) => { order.Add(1); return t + 1; }),
            new HookBinding(site, (t, _) => { order.Add(2); return t * 2; }),
        };
        using var clean = model.RunWithCache(x, CacheRequest.ForNames(new[] { site }));
        using var run = model.RunWithCache(x, CacheRequest.ForNames(new[] { site }), hooks);
        using var want = (clean.Cache[site] + 1) * 2;
        TensorAssert.CloseScaled(want, run.Cache[site], 1e-6, "post-hook cache");
        Assert.Equal(new[] { 1, 2 }, order);
    }

    [Fact]
    public void RunStateDoesNotLeakAcrossRunsOrThreads()
    {
        using var model = GoldenClip.Load();
        using var x = GoldenClip.Pixels();
        using var plain = model.Forward(x);
        using (var _ = model.RunWithHooks(x, new[] { Interventions.ZeroAblateMlp(0) })) { }
        using var after = model.Forward(x);
        TensorAssert.Equal(plain, after, "plain run after a hooked run");

        // A hook that runs a plain forward of the same model on another thread mid-run: that forward sees no hooks.
        torch.Tensor? inner = null;
        var hooks = new[]
        {
            Interventions.ZeroAblateMlp(1),
            new HookBinding(HookNames.ResidPre(1), (t, _) =>
            {
                // Created during the run: detach it from the run's dispose scope to keep it.
                inner ??= Task.Run(() => model.Forward(x)).Result.DetachFromDisposeScope();
                return t;
            }),
        };
        using var hooked = model.RunWithHooks(x, hooks);
        Assert.NotNull(inner);
        TensorAssert.Equal(plain, inner!, "forward on another thread during a hooked run");
        inner!.Dispose();
        // Same thread, nested plain call inside a hook.
        torch.Tensor? nested = null;
        using var hooked2 = model.RunWithHooks(x, new[]
        {
            Interventions.ZeroAblateMlp(1),
            new HookBinding(HookNames.ResidPre(1), (t, _) => { nested ??= model.Forward(x).DetachFromDisposeScope(); return t; }),
        });
        TensorAssert.Equal(plain, nested!, "nested plain forward");
        TensorAssert.Equal(hooked, hooked2, "outer run unaffected by the nested call");
        nested!.Dispose();
    }
}
