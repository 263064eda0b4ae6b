using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Tests.TestSupport;
using DiffusionSteeringLens.Tests.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Lenses;

public sealed class DiffusionLensTests
{
    [Fact]
    [Trait("Category", "Golden")]
    public void LastResidualSiteReadsOutToImageEmbeds()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        using var cases = SafetensorsFile.Open(Path.Combine(GoldenClip.Folder, "cases.safetensors"));
        using var expected = cases.Load("image_embeds");
        var lens = new DiffusionLens(vit);
        var sweep = LensTarget.LayerSweep(vit.Architecture);
        using var e = lens.ComputeEmbeddings(pixels, sweep);
        Assert.Equal(new long[] { 2, vit.Architecture.NumLayers, vit.Architecture.OutputDim }, e.shape);
        TensorAssert.CloseScaled(expected, e.select(1, sweep.Count - 1), 1e-4, "DL(resid_post last) vs image_embeds");
    }

    [Fact]
    [Trait("Category", "Golden")]
    public void ResidualSitesMatchHiddenStatesReadOut()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        using var cases = SafetensorsFile.Open(Path.Combine(GoldenClip.Folder, "cases.safetensors"));
        var lens = new DiffusionLens(vit);
        // resid_pre of layer l is hidden_states[l] (HF): read them out independently through the model's read-out.
        var targets = Enumerable.Range(0, vit.Architecture.NumLayers).Select(l => (LensTarget)new ResidualTarget(l, ResidualPosition.Pre)).ToArray();
        using var e = lens.ComputeEmbeddings(pixels, targets);
        for (int l = 0; l < targets.Length; l++)
        {
            using var hidden = cases.Load($"hidden_states.{l}");
            using var cls = hidden.select(1, 0);
            using var expected = vit.Readout(cls);
            TensorAssert.CloseScaled(expected, e.select(1, l), 1e-4, $"DL(resid_pre:{l})");
        }
    }

    [Fact]
    public void DecompositionReadOutsAreConsistent()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var arch = vit.Architecture;
        var heads = LensTarget.AllHeads(arch).Cast<LensTarget>().ToArray();
        var mlps = LensTarget.AllMlps(arch).Cast<LensTarget>().ToArray();
        var names = Enumerable.Range(0, arch.NumLayers).SelectMany(l => new[] { HookNames.Result(l), HookNames.MlpOut(l), HookNames.AttnOut(l) })
            .Append(HookNames.LnPre).Append(HookNames.ResidPost(arch.NumLayers - 1));
        using var run = vit.RunWithCache(pixels, CacheRequest.ForNames(names, new[] { arch.ClsIndex }));
        // Σ components (embeddings + heads + attention biases + MLPs) at CLS == final residual; its read-out == the output.
        using var scope = torch.NewDisposeScope();
        var sum = run.Cache[HookNames.LnPre].select(1, 0).clone();
        for (int l = 0; l < arch.NumLayers; l++)
        {
            sum += run.Cache[HookNames.Result(l)].select(1, 0).sum(1);
            sum += vit.OutProjBias(l);
            sum += run.Cache[HookNames.MlpOut(l)].select(1, 0);
        }
        TensorAssert.CloseRelative(run.Cache[HookNames.ResidPost(arch.NumLayers - 1)].select(1, 0), sum, 1e-5, "Σ components");
        TensorAssert.CloseRelative(run.Output, vit.Readout(sum), 1e-5, "R(Σ components) == output");
        // DL on a head equals the read-out of that head's cached result alone.
        var dlHeads = new DiffusionLens(vit).ComputeEmbeddings(pixels, heads);
        var direct = vit.Readout(run.Cache[HookNames.Result(1)].select(1, 0).select(1, 2));
        TensorAssert.CloseRelative(direct, dlHeads.select(1, arch.NumHeads + 2), 1e-5, "DL(L1H2)");
        var dlMlps = new DiffusionLens(vit).ComputeEmbeddings(pixels, mlps);
        TensorAssert.CloseRelative(vit.Readout(run.Cache[HookNames.MlpOut(0)].select(1, 0)), dlMlps.select(1, 0), 1e-5, "DL(mlp:0)");
    }

    [Fact]
    public void LogitLensRanksEachImagesOwnEmbeddingFirst()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        using var labels = vit.Forward(pixels); // label i = image i's own embedding
        using var lens = new LogitLens(vit, labels, new[] { "image0", "image1" });
        var last = new LensTarget[] { new ResidualTarget(vit.Architecture.NumLayers - 1, ResidualPosition.Post) };
        var top = lens.TopK(pixels, last, 2);
        Assert.Equal(4, top.Count);
        Assert.Equal("image0", top.Single(t => t.ImageIndex == 0 && t.Rank == 1).Label);
        Assert.Equal("image1", top.Single(t => t.ImageIndex == 1 && t.Rank == 1).Label);
        Assert.Equal(1.0, top.Single(t => t.ImageIndex == 1 && t.Rank == 1).Score, 5);
        using var bad = torch.zeros(3, 5);
        Assert.Throws<ArgumentException>(() => new LogitLens(vit, bad, new[] { "a", "b", "c" }));
    }
}
