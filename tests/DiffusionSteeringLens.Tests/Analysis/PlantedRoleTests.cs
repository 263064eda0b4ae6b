using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Tests.Vit;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Analysis;

/// <summary>Planted ground truth on synthetic weights: roles known by construction that the studies must recover.</summary>
public sealed class PlantedRoleTests
{
    private readonly ITestOutputHelper _out;

    public PlantedRoleTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void RedundantPairHasNoSingleHeadImportanceButALargePairImportance()
    {
        var pair = new[] { (0, 1), (1, 2) };
        using var vit = PlantedHeadModel.BuildShared(pair, directionScale: 60, seed: 5);
        using var pixels = GoldenClip.RandomPixels(4, seed: 6);
        var arch = vit.Architecture;
        int a = 1, b = arch.NumHeads + 2;
        var importance = AblationImportance.Compute(vit, pixels);
        var mean = Enumerable.Range(0, importance[0].Length).Select(h => importance.Average(r => r[h])).ToArray();
        var keep = Enumerable.Repeat(1f, arch.NumLayers * arch.NumHeads).ToArray();
        keep[a] = 0; keep[b] = 0;
        using var masks = torch.tensor(keep).view(1, arch.NumLayers, arch.NumHeads);
        using var both = HeadAblation.Run(vit, pixels, masks).select(0, 0);
        using var clean = vit.Forward(pixels);
        using var cos = EmbeddingSimilarity.Cosine(both, clean);
        double pairImportance = 1 - cos.mean().item<double>();
        _out.WriteLine($"single importances {mean[a]:E2}, {mean[b]:E2}; pair {pairImportance:F4}; max other {mean.Where((_, i) => i != a && i != b).Max():E2}");
        Assert.True(pairImportance > 0.1, $"pair importance {pairImportance:F4}");
        Assert.True(mean[a] < 0.02 * pairImportance && mean[b] < 0.02 * pairImportance, "each head alone is redundant");

        // The direct-effect lens still sees both writers: they are DSL's top two.
        var scores = HeadScoring.EmbeddingScores(new SteeringLens(vit, new SteeringOptions { Steering = new RelativeSteering(2) }), pixels);
        var meanScores = Enumerable.Range(0, scores[0].Length).Select(h => scores.Average(r => r[h])).ToArray();
        var top2 = HeadScore.RankAll(meanScores, arch.NumHeads).Take(2).Select(h => h.Head.Index(arch.NumHeads)).OrderBy(i => i).ToArray();
        Assert.Equal(new[] { a, b }, top2);
    }

    [Fact]
    public void AmplifiedHeadRisesInImportanceAndOutputNorm()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.RandomPixels(6, seed: 12);
        var arch = vit.Architecture;
        int n = arch.NumLayers * arch.NumHeads;
        double[] Mean(double[][] m) => Enumerable.Range(0, n).Select(h => m.Average(r => r[h])).ToArray();
        int Rank(double[] v, int h) => HeadScore.RankAll(v, arch.NumHeads).Single(x => x.Head.Index(arch.NumHeads) == h).Rank;
        var dslLens = new SteeringLens(vit, new SteeringOptions { Steering = new RelativeSteering(1) });
        var before = Mean(AblationImportance.Compute(vit, pixels));
        var dslBefore = Mean(HeadScoring.EmbeddingScores(dslLens, pixels));
        var normBefore = Mean(HeadOutputNorm.Compute(vit, pixels));
        int target = Enumerable.Range(0, n).OrderBy(h => before[h]).First(); // the least important head
        using (torch.no_grad())
        using (var slice = vit.state_dict()[$"vision_model.encoder.layers.{target / arch.NumHeads}.self_attn.out_proj.weight"]
                   .narrow(1, target % arch.NumHeads * arch.HeadDim, arch.HeadDim))
            slice.mul_(8);
        var after = Mean(AblationImportance.Compute(vit, pixels));
        var normAfter = Mean(HeadOutputNorm.Compute(vit, pixels));
        var dslAfter = Mean(HeadScoring.EmbeddingScores(dslLens, pixels));
        _out.WriteLine($"head {target}: importance rank {Rank(before, target)} → {Rank(after, target)} ({before[target]:E2} → {after[target]:E2}); "
            + $"norm rank {Rank(normBefore, target)} → {Rank(normAfter, target)}; DSL relative:1 rank {Rank(dslBefore, target)} → {Rank(dslAfter, target)} (reported, not asserted)");
        Assert.True(Rank(after, target) < Rank(before, target), "amplifying a head must raise its importance rank");
        Assert.True(Rank(normAfter, target) < Rank(normBefore, target), "and its output-norm rank");
        Assert.Equal(8 * normBefore[target], normAfter[target], 3);
    }
}
