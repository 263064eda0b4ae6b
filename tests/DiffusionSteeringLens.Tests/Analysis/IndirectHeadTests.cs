using DiffusionSteeringLens.Synthetic;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Tests.Vit;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Analysis;

/// <summary>
/// An indirect-only head (<see cref="IndirectHeadModel"/>): large total effect, no direct effect. DSL's cosine score
/// cannot tell it from a head that writes nothing, so it must be flagged "no visible direct effect" and ranked last —
/// but kept in the correlations (see docs/validation.md §1).
/// </summary>
public sealed class IndirectHeadTests
{
    private readonly ITestOutputHelper _out;

    public IndirectHeadTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void IndirectOnlyHeadIsFlaggedRankedLastByDslAndKeptInTheCorrelations()
    {
        using var vit = IndirectHeadModel.Build(seed: 4);
        var arch = vit.Architecture;
        int a = IndirectHeadModel.A.Layer * arch.NumHeads + IndirectHeadModel.A.Head;
        int b = IndirectHeadModel.B.Layer * arch.NumHeads + IndirectHeadModel.B.Head;
        var processor = ClipImageProcessor.Load(GoldenClip.Folder);
        using var images = SyntheticStudyImages.Shapes(processor, evaluationCount: 6, seed: 3, calibrationCount: 3, referenceCount: 0);
        var steering = new SteeringOptions { Steering = new RelativeSteering(1) };

        // What the raw DSL score says (before the flag): A's steered read-out has the clean direction, cos = 1.
        var raw = HeadScoring.EmbeddingScores(new SteeringLens(vit, steering), images.Evaluation.Pixels);
        var rawMean = Enumerable.Range(0, raw[0].Length).Select(h => raw.Average(r => r[h])).ToArray();
        var rawRanked = HeadScore.RankAll(rawMean, arch.NumHeads);
        int rawRankA = rawRanked.Single(h => h.Head.Index(arch.NumHeads) == a).Rank;
        _out.WriteLine($"raw DSL relative:1: A = L0H0 score {rawMean[a]:F6}, rank {rawRankA} of {rawMean.Length}; B score {rawMean[b]:F4}");

        var settings = new ValidationSettings { Permutations = 200, Bootstrap = 50, RandomOrders = 20, TrajectorySteps = 3 };
        var v = LensStudy.Validate(vit, images, steering, settings);
        var rowA = v.Heads[a];
        var rowB = v.Heads[b];
        double medianDelta = v.Heads.Select(h => h.DirectEffect!.Value).OrderBy(x => x).ElementAt(v.Heads.Count / 2);
        double maxImportance = v.Heads.Max(h => h.Importance!.Value);
        int importanceRankA = HeadScore.RanksOf(v.Heads.Select(h => h.Importance!.Value).ToArray())[a];
        _out.WriteLine($"A: δ = {rowA.DirectEffect:E2} (median head {medianDelta:E3}), importance {rowA.Importance:F4} (rank {importanceRankA}, max {maxImportance:F4}), "
            + $"DSL rank {rowA.DslRank}, flagged {rowA.NoVisibleDirectEffect}; B: δ = {rowB.DirectEffect:F3}, importance {rowB.Importance:F4}, DSL rank {rowB.DslRank}");
        foreach (var l in v.Lenses) _out.WriteLine($"  {l.Lens}: ρ = {l.Correlation.Rho:F3} over {l.Correlation.Heads} heads");

        // Why "rank last but keep in ρ": the three ways of treating A give three different DSL correlations.
        var importance = v.PerImage.Select(r => r.Importance!.ToArray()).ToArray();
        var dslRaw = v.PerImage.Select(r => r.Dsl.ToArray()).ToArray();
        var dslLast = dslRaw.Select(r => r.Select((x, i) => i == a ? double.NegativeInfinity : x).ToArray()).ToArray();
        double Rho(double[][] s, double[][] imp) => HeadCorrelation.Compute(s, imp, settings.Permutations, settings.Bootstrap, settings.Seed).Rho;
        double[][] Without(double[][] m) => m.Select(r => r.Where((_, i) => i != a).ToArray()).ToArray();
        double rhoRaw = Rho(dslRaw, importance), rhoLast = Rho(dslLast, importance), rhoExcluded = Rho(Without(dslRaw), Without(importance));
        _out.WriteLine($"DSL ρ with A at its raw cos = 1 (ranked first): {rhoRaw:F3}; A ranked last and kept: {rhoLast:F3}; A left out: {rhoExcluded:F3}");
        foreach (var w in v.Warnings) _out.WriteLine("  warning: " + w);

        Assert.Equal(1.0, rawMean[a], 5);   // the blind spot the flag exists for: scored like a silent head …
        Assert.Equal(1, rawRankA);          // … and ranked first
        Assert.True(rowA.DirectEffect < 1e-3 * medianDelta);
        Assert.True(rowA.NoVisibleDirectEffect);
        Assert.False(rowA.Silent);          // it writes a lot: not a silent head
        Assert.Equal(new[] { new HeadTarget(0, 0) }, v.InvisibleHeads);
        Assert.Empty(v.SilentHeads);
        Assert.Equal(arch.NumLayers * arch.NumHeads, rowA.DslRank);   // ranked last …
        Assert.All(v.Lenses, l => Assert.Equal(8, l.Correlation.Heads)); // … and kept in every ρ
        Assert.Contains(v.Warnings, w => w.Contains("No visible direct effect: L0H0"));
        Assert.Equal(rhoLast, v.Lenses.Single(l => l.Lens == "DSL").Correlation.Rho, 12); // the study's ρ ranks A last …
        Assert.True(rhoLast < rhoRaw, "… which penalises DSL for not seeing an important head");
        Assert.True(importanceRankA <= 2 && rowA.Importance > 0.5 * maxImportance, "A's total effect must be large");
        Assert.True(rowB.DslRank <= 2, $"B ranked {rowB.DslRank}");
        Assert.False(rowB.NoVisibleDirectEffect);

        // The contrast score (docs/toy-model.md §10) cannot be won by an invisible write: A scores ≈ 0, B stays on top.
        double medianContrast = v.Heads.Select(h => Math.Abs(h.DslContrast!.Value)).OrderBy(x => x).ElementAt(v.Heads.Count / 2);
        _out.WriteLine($"contrast: A {rowA.DslContrast:E2} (rank {rowA.DslContrastRank}), B {rowB.DslContrast:F4} (rank {rowB.DslContrastRank}), median |c| {medianContrast:F4}; "
            + $"ρ {v.Lenses.Single(l => l.Lens == "DSL-contrast").Correlation.Rho:F3}; {v.ContrastVsDlVerdict}");
        Assert.True(Math.Abs(rowA.DslContrast!.Value) <= 1e-3 * medianContrast, $"|c_A| = {Math.Abs(rowA.DslContrast.Value):E2}");
        Assert.NotEqual(1, rowA.DslContrastRank);
        Assert.True(rowB.DslContrastRank <= 2, $"B's contrast rank {rowB.DslContrastRank}");
        Assert.Equal(8, v.Lenses.Single(l => l.Lens == "DSL-contrast").Correlation.Heads); // kept, at its own score
        Assert.NotNull(v.ContrastVsDl);
    }
}
