using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Analysis;

/// <summary>
/// Chooses a steering strength on calibration images, never on the images it is later evaluated on: every strength of a
/// fixed grid scores every head (DSL embedding score averaged over the calibration images) and the strength whose
/// scores have the largest head-level Spearman ρ with ablation importance on the same calibration images is chosen.
/// Heads that write (almost) nothing are left out, as in the validation study.
/// </summary>
internal static class SteeringCalibration
{
    /// <summary>The fixed grid of strengths (λ or α), fixed before any run: a factor of 2 apart from 0.25 to 8.</summary>
    public static IReadOnlyList<double> DefaultGrid { get; } = new[] { 0.25, 0.5, 1, 2, 4, 8 };

    /// <summary>The steering function of a family at one strength.</summary>
    public static SteeringFunction Create(SteeringFamily family, double strength) => family switch
    {
        SteeringFamily.Relative => new RelativeSteering(strength),
        SteeringFamily.GlobalScale => new GlobalScaleSteering(strength),
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "unknown steering family"),
    };

    /// <summary>Scores the grid on the calibration images and returns the chosen strength.</summary>
    /// <param name="encoder">Encoder.</param>
    /// <param name="calibrationPixels">Calibration images [B, C, S, S] (B ≥ 1), disjoint from any evaluation set.</param>
    /// <param name="family">Which family's strength is chosen.</param>
    /// <param name="readout">Read-out the DSL scores use (the one the evaluation will use).</param>
    /// <param name="ablation">Zero or mean ablation for the calibration importance.</param>
    /// <param name="referencePixels">Mean-ablation reference set (required for <see cref="AblationKind.Mean"/>).</param>
    /// <param name="grid">Strengths to compare; <see cref="DefaultGrid"/> when null.</param>
    /// <param name="progress">Reports one step per grid point.</param>
    /// <param name="cancellationToken">Cancels between grid points.</param>
    /// <exception cref="ArgumentException">Empty or non-positive grid, or fewer than two heads left to correlate.</exception>
    public static SteeringCalibrationResult Choose(IHookedVit encoder, torch.Tensor calibrationPixels, SteeringFamily family,
        ReadoutMode readout = ReadoutMode.Recomputed, AblationKind ablation = AblationKind.Zero, torch.Tensor? referencePixels = null,
        IReadOnlyList<double>? grid = null, IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(calibrationPixels);
        grid ??= DefaultGrid;
        if (grid.Count == 0 || grid.Any(s => !double.IsFinite(s) || s <= 0))
            throw new ArgumentException($"The calibration grid must hold positive finite strengths; got [{string.Join(", ", grid)}].", nameof(grid));
        var reference = ablation == AblationKind.Mean ? AblationImportance.RequireReference(referencePixels) : null;

        var importance = AblationImportance.Compute(encoder, calibrationPixels, ablation, reference, cancellationToken);
        var silent = HeadOutputNorm.SilentHeads(HeadOutputNorm.Compute(encoder, calibrationPixels, cancellationToken));
        var kept = Enumerable.Range(0, importance[0].Length).Except(silent).ToArray();
        if (kept.Length < 2)
            throw new ArgumentException($"Only {kept.Length} head(s) write anything on the calibration images; ρ needs at least two.", nameof(calibrationPixels));
        var meanImportance = KeptMeans(importance, kept);

        var candidates = new List<(SteeringFunction Steering, double Rho)>(grid.Count);
        foreach (var strength in grid)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var steering = Create(family, strength);
            var lens = new SteeringLens(encoder, new SteeringOptions { Steering = steering, Readout = readout });
            var scores = HeadScoring.EmbeddingScores(lens, calibrationPixels, cancellationToken: cancellationToken);
            candidates.Add((steering, SpearmanCorrelation.Rho(KeptMeans(scores, kept), meanImportance)));
            progress?.Report(new LensProgress("steering calibration", candidates.Count, grid.Count));
        }
        // NaN (constant scores) never wins; among equal ρ the first, i.e. the grid's order, decides.
        var best = candidates.Where(c => !double.IsNaN(c.Rho)).DefaultIfEmpty(candidates[0])
            .Aggregate((a, b) => b.Rho > a.Rho ? b : a);
        return new SteeringCalibrationResult(family, readout, candidates, best.Steering, (int)calibrationPixels.shape[0], silent);
    }

    private static double[] KeptMeans(double[][] perImage, int[] kept) =>
        kept.Select(h => perImage.Average(row => row[h])).ToArray();
}
