using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// The protocol's steering choice on a study's image sets: the strength is chosen on the calibration images (and the
/// reference set for mean ablation); the evaluation images are never read, so the evaluation stays out of sample.
/// </summary>
public static class StudySteering
{
    /// <summary>Chooses the strength of <paramref name="family"/> with <see cref="SteeringCalibration.Choose"/> on <c>images.Calibration</c>.</summary>
    /// <param name="encoder">Encoder.</param>
    /// <param name="images">Study image sets; only the calibration and reference sets are used.</param>
    /// <param name="family">Which family's strength is chosen.</param>
    /// <param name="readout">Read-out of the DSL scores (the one the evaluation uses).</param>
    /// <param name="ablation">Zero or mean ablation (mean needs the reference set).</param>
    /// <param name="grid">Strengths compared; <see cref="SteeringCalibration.DefaultGrid"/> when null.</param>
    /// <param name="progress">Progress sink.</param>
    /// <param name="cancellationToken">Cancels between grid points.</param>
    public static SteeringCalibrationResult Calibrate(IHookedVit encoder, StudyImages images, SteeringFamily family,
        ReadoutMode readout = ReadoutMode.Recomputed, AblationKind ablation = AblationKind.Zero, IReadOnlyList<double>? grid = null,
        IProgress<StudyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        var reference = ablation == AblationKind.Mean ? images.Reference?.Pixels : null;
        progress?.Report(new StudyProgress("steering calibration", 0, 1));
        var result = SteeringCalibration.Choose(encoder, images.Calibration.Pixels, family, readout, ablation, reference, grid, null, cancellationToken);
        progress?.Report(new StudyProgress("steering calibration", 1, 1));
        return result;
    }
}
