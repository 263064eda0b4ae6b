using DiffusionSteeringLens.Analysis;

namespace DiffusionSteeringLens.Experiments;

/// <summary>Per-image ablation curves of one trajectory image (each K + 1 values: cosine to its clean output after 0…K ablations).</summary>
/// <param name="Dsl">The DSL order.</param>
/// <param name="Greedy">The calibration-fitted greedy order.</param>
/// <param name="Random">Every random order, in seed order.</param>
public sealed record ImageTrajectory(IReadOnlyList<double> Dsl, IReadOnlyList<double> Greedy, IReadOnlyList<IReadOnlyList<double>> Random);

/// <summary>Everything the validation statistics need from one evaluation image (layer-major per head).</summary>
/// <param name="Image">Index within the whole evaluation set.</param>
/// <param name="Dsl">DSL scores.</param>
/// <param name="Dl">DL-on-heads scores.</param>
/// <param name="OutputNorm">Output-norm baseline.</param>
/// <param name="DirectEffect">Direct-effect visibility δ of every head (<see cref="HeadScoreRow.DirectEffect"/>).</param>
/// <param name="Importance">Single-head ablation importance.</param>
/// <param name="Trajectory">Ablation curves, for the first <see cref="ValidationSettings.TrajectoryImages"/> images only.</param>
public sealed record ImageMeasurement(int Image, IReadOnlyList<double> Dsl, IReadOnlyList<double> Dl, IReadOnlyList<double> OutputNorm,
    IReadOnlyList<double> DirectEffect, IReadOnlyList<double> Importance, ImageTrajectory? Trajectory)
{
    /// <summary>DSL contrast scores (<see cref="Analysis.HeadScoring.ContrastScores"/>); null in measurements written before they existed.</summary>
    public IReadOnlyList<double>? DslContrast { get; init; }
}

/// <summary>
/// The per-image step of the validation protocol on one shard (or all) of the evaluation images, with what every shard
/// shares (calibration-fixed orders, settings, fingerprints) so that shards can be checked and merged
/// (<see cref="LensStudy.MergeValidation"/>) before the statistics are computed (<see cref="LensStudy.ValidationStatistics"/>).
/// </summary>
/// <param name="Shard">Which part of the evaluation images this is.</param>
/// <param name="EvaluationImages">Size of the whole evaluation set.</param>
/// <param name="Images">Description of the image sets.</param>
/// <param name="ModelFingerprint">SHA-256 of the encoder's weights (names, dtypes, shapes, bytes).</param>
/// <param name="ImagesFingerprint">SHA-256 of the calibration, evaluation and reference pixels.</param>
/// <param name="Settings">Protocol settings.</param>
/// <param name="NumLayers">Encoder layers.</param>
/// <param name="NumHeads">Heads per layer.</param>
/// <param name="CalibrationImages">Calibration images the orders were fixed on.</param>
/// <param name="DslOrder">The first K heads (layer-major indices) of the DSL order fixed on the calibration images.</param>
/// <param name="GreedyOrder">The K heads of the greedy order fitted on the calibration images.</param>
/// <param name="TrajectoryImages">Evaluation images (the first ones) the trajectories are scored on.</param>
/// <param name="PerImage">This shard's images, by increasing index.</param>
public sealed record ValidationMeasurements(ValidationShard Shard, int EvaluationImages, string Images, string ModelFingerprint, string ImagesFingerprint,
    ValidationSettings Settings, int NumLayers, int NumHeads, int CalibrationImages, IReadOnlyList<int> DslOrder, IReadOnlyList<int> GreedyOrder,
    int TrajectoryImages, IReadOnlyList<ImageMeasurement> PerImage);
