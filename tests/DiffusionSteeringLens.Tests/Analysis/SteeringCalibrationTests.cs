using DiffusionSteeringLens.Synthetic;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Tests.Vit;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Analysis;

/// <summary>The steering strength is chosen on calibration images only, by head-level ρ with ablation importance.</summary>
public sealed class SteeringCalibrationTests
{
    private static readonly double[] Grid = { 0.5, 1, 4 };
    private readonly ITestOutputHelper _out;

    public SteeringCalibrationTests(ITestOutputHelper output) => _out = output;

    private static StudyImages Images(int evaluationCount, int seed) =>
        SyntheticStudyImages.Shapes(ClipImageProcessor.Load(GoldenClip.Folder), evaluationCount, seed, calibrationCount: 4, referenceCount: 0);

    [Theory]
    [InlineData(SteeringFamily.Relative, ReadoutMode.Recomputed)]
    [InlineData(SteeringFamily.GlobalScale, ReadoutMode.FrozenLayerNorm)]
    public void ChangingTheEvaluationImagesDoesNotChangeTheChoice(SteeringFamily family, ReadoutMode readout)
    {
        using var vit = GoldenClip.Load();
        using var few = Images(evaluationCount: 2, seed: 4);
        using var many = Images(evaluationCount: 7, seed: 4);
        Assert.NotEqual(few.Evaluation.Pixels.shape[0], many.Evaluation.Pixels.shape[0]);
        var a = LensStudy.CalibrateSteering(vit, few, family, readout, grid: Grid);
        var b = LensStudy.CalibrateSteering(vit, many, family, readout, grid: Grid);
        Assert.Equal(a.Grid.Select(c => c.Rho), b.Grid.Select(c => c.Rho));
        Assert.Equal(a.Chosen, b.Chosen);
        // Not vacuous: other calibration images do change the grid's ρ.
        using var otherCalibration = Images(evaluationCount: 2, seed: 9);
        var c = LensStudy.CalibrateSteering(vit, otherCalibration, family, readout, grid: Grid);
        Assert.NotEqual(a.Grid.Select(x => x.Rho), c.Grid.Select(x => x.Rho));
        _out.WriteLine($"{family} {readout}: {string.Join(", ", a.Grid.Select(x => $"{x.Steering} {x.Rho:F3}"))} → {a.Chosen}");
    }

    [Fact]
    public void ChoosesTheStrengthWithTheLargestCalibrationRho()
    {
        using var vit = GoldenClip.Load();
        using var images = Images(evaluationCount: 2, seed: 4);
        var calibration = images.Calibration.Pixels;
        var result = SteeringCalibration.Choose(vit, calibration, SteeringFamily.Relative, grid: Grid);

        // The same criterion written out: image-averaged DSL score vs image-averaged zero-ablation importance over the heads.
        var importance = AblationImportance.Compute(vit, calibration);
        var meanImportance = Enumerable.Range(0, importance[0].Length).Select(h => importance.Average(r => r[h])).ToArray();
        var expected = Grid.Select(l =>
        {
            var s = HeadScoring.EmbeddingScores(new SteeringLens(vit, new SteeringOptions { Steering = new RelativeSteering(l) }), calibration);
            return SpearmanCorrelation.Rho(Enumerable.Range(0, s[0].Length).Select(h => s.Average(r => r[h])).ToArray(), meanImportance);
        }).ToArray();
        Assert.Empty(result.SilentHeads);
        Assert.Equal(Grid.Select(l => (SteeringFunction)new RelativeSteering(l)), result.Grid.Select(c => c.Steering));
        for (int i = 0; i < Grid.Length; i++) Assert.Equal(expected[i], result.Grid[i].Rho, 12);
        Assert.Equal(result.Grid.MaxBy(c => c.Rho)!.Steering, result.Chosen);
        Assert.Equal(4, result.CalibrationImages);
    }

    [Fact]
    public void BadGridAndMissingMeanReferenceAreTypedErrors()
    {
        using var vit = GoldenClip.Load();
        using var images = Images(evaluationCount: 2, seed: 4);
        var px = images.Calibration.Pixels;
        Assert.Contains("positive", Assert.Throws<ArgumentException>(() => SteeringCalibration.Choose(vit, px, SteeringFamily.Relative, grid: new[] { 1.0, -2 })).Message);
        Assert.Throws<ArgumentException>(() => SteeringCalibration.Choose(vit, px, SteeringFamily.Relative, grid: Array.Empty<double>()));
        Assert.ThrowsAny<ArgumentException>(() => SteeringCalibration.Choose(vit, px, SteeringFamily.GlobalScale, ablation: AblationKind.Mean));
    }
}
