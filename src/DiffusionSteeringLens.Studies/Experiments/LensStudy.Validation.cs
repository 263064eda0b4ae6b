using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Experiments;

// The validation protocol split in its two steps, so the expensive per-image step can run on several machines
// (dsl validate --shard i/n, then dsl merge); an unsharded Validate takes the same path, so merged shards reproduce it bit
// for bit. The protocol's steering choice (dsl validate --steer auto:…) sits here too.
public static partial class LensStudy
{
    /// <summary>Evaluation images measured per forward batch; a shard is always whole blocks (see <see cref="ValidationShard.Range"/>).</summary>
    public const int ValidationBlockSize = ValidationStudy.BlockSize;

    /// <summary>
    /// The per-image step of <see cref="Validate"/> on one shard of the evaluation images: DSL, DL-on-heads, output-norm and
    /// direct-effect scores, single-head ablation importance, and the ablation curves of the trajectory images. The DSL and
    /// greedy orders are fixed on the calibration images alone, so every shard ablates the same orders.
    /// </summary>
    /// <param name="encoder">Encoder.</param>
    /// <param name="images">Calibration, evaluation and reference sets (identical in every shard).</param>
    /// <param name="steering">DSL steering.</param>
    /// <param name="settings">Protocol settings.</param>
    /// <param name="shard">Which evaluation images to measure; null = all.</param>
    /// <param name="progress">Progress sink (one step per block).</param>
    /// <param name="cancellationToken">Cancels between blocks and forwards.</param>
    /// <exception cref="ArgumentException">More shards than blocks of evaluation images; mean ablation without a reference set.</exception>
    public static ValidationMeasurements MeasureValidation(IHookedVit encoder, StudyImages images, SteeringOptions steering,
        ValidationSettings? settings = null, ValidationShard? shard = null, IProgress<LensProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        ValidationStudy.Measure(encoder, images, steering, settings, shard, progress, cancellationToken);

    /// <summary>
    /// Joins the shards of one study into measurements of the whole evaluation set, after checking that they fit: the
    /// same model and image fingerprints, settings and calibration-fixed orders, every shard of the same count exactly once.
    /// </summary>
    /// <exception cref="ShardMismatchException">The shards do not fit; the message names the shard and what differs.</exception>
    public static ValidationMeasurements MergeValidation(IReadOnlyList<ValidationMeasurements> shards) => ValidationStudy.Merge(shards);

    /// <summary>
    /// Every statistic of <see cref="Validate"/> from the per-image measurements of the whole evaluation set: head-level ρ
    /// of each lens and baseline with permutation p and bootstrap CI, paired Δρ DSL − DL, and the trajectory study.
    /// </summary>
    /// <exception cref="ArgumentException">The measurements are one shard only (merge them first).</exception>
    public static ValidationResult ValidationStatistics(ValidationMeasurements measurements) => ValidationStudy.Statistics(measurements);

    /// <summary>
    /// Chooses the strength of a steering <paramref name="family"/> on the study's calibration images (and the reference
    /// set for mean ablation): the grid strength whose calibration-averaged DSL scores correlate best with ablation
    /// importance. The evaluation images are never read, so the evaluation stays out of sample.
    /// </summary>
    /// <param name="encoder">Encoder.</param>
    /// <param name="images">Study image sets; only the calibration and reference sets are used.</param>
    /// <param name="family">Which family's strength is chosen.</param>
    /// <param name="readout">Read-out of the DSL scores (the one the evaluation uses).</param>
    /// <param name="ablation">Zero or mean ablation (mean needs the reference set).</param>
    /// <param name="grid">Strengths compared; 0.25, 0.5, 1, 2, 4, 8 when null.</param>
    /// <param name="progress">Progress sink.</param>
    /// <param name="cancellationToken">Cancels between grid points.</param>
    public static SteeringCalibrationResult CalibrateSteering(IHookedVit encoder, StudyImages images, SteeringFamily family,
        ReadoutMode readout = ReadoutMode.Recomputed, AblationKind ablation = AblationKind.Zero, IReadOnlyList<double>? grid = null,
        IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        var reference = ablation == AblationKind.Mean ? images.Reference?.Pixels : null;
        progress?.Report(new LensProgress("steering calibration", 0, 1));
        var result = SteeringCalibration.Choose(encoder, images.Calibration.Pixels, family, readout, ablation, reference, grid, null, cancellationToken);
        progress?.Report(new LensProgress("steering calibration", 1, 1));
        return result;
    }
}
