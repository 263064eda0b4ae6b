using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Tests.TestSupport;
using DiffusionSteeringLens.Tests.Vit;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Hooks;

/// <summary>Cache stacks, decomposition and read-out.</summary>
public sealed class ActivationCacheTests
{
    private readonly ITestOutputHelper _out;

    public ActivationCacheTests(ITestOutputHelper output) => _out = output;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DecompositionSumsToTheFinalResidual(bool clsOnly)
    {
        using var model = GoldenClip.Load();
        using var x = GoldenClip.Pixels();
        var request = new CacheRequest { NameFilter = _ => true, Positions = clsOnly ? new[] { 0 } : null };
        using var run = model.RunWithCache(x, request);
        using var d = run.Cache.Decompose();
        var a = model.Architecture;
        Assert.Equal(1 + a.NumLayers * (a.NumHeads + 2), d.Names.Count);
        Assert.Equal(d.Names.Count, d.Components.shape[0]);
        Assert.Equal(ResidualDecomposition.HeadName(1, 3), d.Names[1 + (a.NumHeads + 2) + 3]);
        using var sum = d.Components.sum(dim: 0);
        var rel = TensorAssert.CloseRelative(run.Cache[HookNames.ResidPost(a.NumLayers - 1)], sum, 1e-5, "Σ components");
        _out.WriteLine($"decomposition relative error {rel:E2}");
        // The bias component is b_O broadcast.
        int biasIndex = d.Names.ToList().IndexOf(ResidualDecomposition.AttnBiasName(0));
        using var bias = model.OutProjBias(0).expand(d.Components[biasIndex].shape);
        TensorAssert.CloseScaled(bias, d.Components[biasIndex], 1e-6, "bias component");
    }

    [Fact]
    public void StacksHaveTheDocumentedLayout()
    {
        using var model = GoldenClip.Load();
        using var x = GoldenClip.Pixels();
        using var run = model.RunWithCache(x, new CacheRequest { NameFilter = _ => true });
        using var acc = run.Cache.AccumulatedResidual(true);
        using var accNoFinal = run.Cache.AccumulatedResidual(false);
        Assert.Equal(new long[] { 3, 2, 17, 32 }, acc.shape);
        Assert.Equal(new long[] { 2, 2, 17, 32 }, accNoFinal.shape);
        TensorAssert.Equal(run.Cache[HookNames.ResidPost(1)], acc[2], "final");
        TensorAssert.Equal(run.Cache[HookNames.ResidPre(1)], acc[1], "resid_pre 1");
        using var heads = run.Cache.StackedHeadResults();
        Assert.Equal(new long[] { 2, 2, 17, 4, 32 }, heads.shape);

        // Read-out of the last accumulated CLS residual is the model output.
        using var cls = acc.select(2, 0);
        using var embeds = Hooks_ApplyReadout(cls, model);
        Assert.Equal(new long[] { 3, 2, 24 }, embeds.shape);
        TensorAssert.CloseScaled(run.Output, embeds[2], 1e-6, "R(final CLS) = output");
    }

    private static torch.Tensor Hooks_ApplyReadout(torch.Tensor stack, Models.Vit.IHookedVit model) =>
        ActivationCache.ApplyReadout(stack, model);
}
