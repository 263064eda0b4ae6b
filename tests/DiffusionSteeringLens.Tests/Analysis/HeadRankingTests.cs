using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Tests.Vit;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Analysis;

public sealed class HeadRankingTests
{
    private readonly ITestOutputHelper _out;

    public HeadRankingTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void PlantedHeadIsRankedFirstByDsl()
    {
        const int layer = 0, head = 2;
        using var vit = PlantedHeadModel.Build(layer, head, directionScale: 20, seed: 11);
        using var pixels = GoldenClip.RandomPixels(4, seed: 5);
        var arch = vit.Architecture;

        // The plant works: the head's result at CLS is the known direction for every image, others are ~0.
        using (var run = vit.RunWithCache(pixels, CacheRequest.ForNames(new[] { HookNames.Result(layer) }, new[] { 0 })))
        {
            using var res = run.Cache[HookNames.Result(layer)].select(1, 0); // [B, H, D]
            using var norms = res.norm(-1);
            _out.WriteLine("result norms per head (image 0): " + string.Join(", ", norms[0].data<float>().ToArray().Select(v => v.ToString("F4"))));
            Assert.True(norms[.., head].min().item<float>() > 19.9f);
        }

        var dsl = new SteeringLens(vit, new SteeringOptions { Steering = new RelativeSteering(2) });
        var scores = HeadScoring.EmbeddingScores(dsl, pixels);
        var dlScores = HeadScoring.EmbeddingScores(new DiffusionLens(vit), pixels);
        for (int b = 0; b < scores.Length; b++)
        {
            var ranked = HeadScore.RankAll(scores[b], arch.NumHeads);
            _out.WriteLine($"image {b}: DSL top {ranked[0].Label} ({ranked[0].Score:F4}), next {ranked[1].Label} ({ranked[1].Score:F4}); " +
                           $"DL top {HeadScore.RankAll(dlScores[b], arch.NumHeads)[0].Label}");
            Assert.Equal((layer, head), (ranked[0].Layer, ranked[0].Head));
        }
    }

    [Fact]
    public void HeadWithZeroedWeightsHasZeroImportance()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var arch = vit.Architecture;
        using (torch.no_grad())
        using (var slice = vit.state_dict()["vision_model.encoder.layers.1.self_attn.out_proj.weight"].narrow(1, 3 * arch.HeadDim, arch.HeadDim))
            slice.zero_();
        foreach (var kind in new[] { AblationKind.Zero, AblationKind.Mean })
        {
            var importance = AblationImportance.Compute(vit, pixels, kind);
            Assert.Equal(2, importance.Length);
            foreach (var perImage in importance)
            {
                Assert.Equal(arch.NumLayers * arch.NumHeads, perImage.Length);
                Assert.True(Math.Abs(perImage[arch.NumHeads + 3]) < 1e-6, $"{kind}: zeroed head importance {perImage[arch.NumHeads + 3]:E2}");
                Assert.True(perImage.Max() > 1e-4, $"{kind}: some head must matter");
            }
        }
    }

    [Fact]
    public void BatchedAblationEqualsOneHookedRunPerHead()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var arch = vit.Architecture;
        using var masks = HeadAblation.SingleHeadMasks(arch);
        using var batched = HeadAblation.Run(vit, pixels, masks, maxRowsPerForward: 6); // forces several chunks
        for (int l = 0; l < arch.NumLayers; l++)
            for (int h = 0; h < arch.NumHeads; h++)
            {
                using var single = vit.RunWithHooks(pixels, new[] { Interventions.ZeroAblateHead(l, h) });
                TestSupport.TensorAssert.CloseRelative(single, batched[l * arch.NumHeads + h], 1e-5, $"ablate L{l}H{h}");
            }
    }

    [Fact]
    public void TrajectoriesStartAtCleanAndGreedyIsNoWorseThanRandom()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var arch = vit.Architecture;
        var dsl = new SteeringLens(vit, new SteeringOptions { Steering = new RelativeSteering(1) });
        var scores = HeadScoring.EmbeddingScores(dsl, pixels);
        var mean = Enumerable.Range(0, scores[0].Length).Select(i => scores.Average(s => s[i])).ToArray();
        var study = AblationTrajectories.Study(vit, pixels, mean, steps: 5, randomSeeds: new[] { 1, 2, 3 });
        Assert.Equal(6, study.Dsl.Similarity.Count);
        Assert.Equal(1.0, study.Dsl.Similarity[0], 5);
        Assert.Equal(1.0, study.Greedy.Similarity[0], 5);
        Assert.True(study.Greedy.Auc <= study.Random.Average(r => r.Auc) + 1e-9);
        Assert.True(study.Greedy.Similarity[1] <= study.Dsl.Similarity[1] + 1e-9, "greedy's first removal is the most damaging single head");
        Assert.Equal(5, study.Greedy.Heads.Distinct().Count());
        _out.WriteLine($"AUC dsl {study.Dsl.Auc:F4} greedy {study.Greedy.Auc:F4} random {study.Random.Average(r => r.Auc):F4} normalised {study.NormalizedAuc:F3}");
    }

    [Fact]
    public void OverlayStudyAblatesTheTopHeadsAndReportsBeforeAfter()
    {
        using var vit = GoldenClip.Load();
        using var basePictures = torch.rand(new long[] { 3, 3, 16, 16 }, generator: new torch.Generator(3));
        using var mask = torch.zeros(16, 16);
        using (var patch = mask.narrow(0, 10, 5).narrow(1, 10, 5)) patch.fill_(1);
        using var overlay = torch.ones(3, 16, 16);
        using var overlaid = OverlayStudy.Compose(basePictures, overlay, mask);
        using var grey = torch.full(new long[] { 1, 3, 16, 16 }, 0.5f);
        using var overlayOnly = OverlayStudy.Compose(grey, overlay, mask);
        var sim = new EncoderImageSimilarity(vit);
        using var basePixels = Normalise(basePictures);
        using var overlaidPixels = Normalise(overlaid);
        using var refPixels = Normalise(overlayOnly);
        var result = OverlayStudy.Run(new SteeringLens(vit), basePixels, overlaidPixels, refPixels, topK: 3, randomSeeds: new[] { 1, 2 });
        Assert.Equal(3, result.TopHeads.Count);
        Assert.All(new[] { result.OverlaySimilarityBefore, result.OverlaySimilarityAfter, result.BaseSimilarityBefore, result.BaseSimilarityAfter, result.RandomOverlaySimilarityAfter },
            v => Assert.InRange(v, -1.0, 1.0));
        Assert.NotEqual(result.OverlaySimilarityBefore, result.OverlaySimilarityAfter);
        Assert.Equal(1.0, sim.Similarity(basePictures, basePictures).Min(), 6);
    }

    private static torch.Tensor Normalise(torch.Tensor pictures)
    {
        using var mean = torch.tensor(new[] { 0.48145466f, 0.4578275f, 0.40821073f }).view(1, 3, 1, 1);
        using var std = torch.tensor(new[] { 0.26862954f, 0.26130258f, 0.27577711f }).view(1, 3, 1, 1);
        return (pictures - mean) / std;
    }
}
