namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// The per-image step of the image-set head ranking (<see cref="LensStudy.RankOnImages"/>) on one shard (or all) of the
/// evaluation images, with the fingerprints every shard must share, so that shards can be checked and merged
/// (<see cref="LensStudy.MergeRankOnImages"/>) before the ranking is computed (<see cref="LensStudy.RankOnImagesStatistics"/>).
/// </summary>
/// <param name="Shard">Which part of the evaluation images this is.</param>
/// <param name="EvaluationImages">Size of the whole evaluation set.</param>
/// <param name="Images">Description of the image sets.</param>
/// <param name="ModelFingerprint">SHA-256 of the encoder's weights (names, dtypes, shapes, bytes).</param>
/// <param name="ImagesFingerprint">SHA-256 of the calibration, evaluation and reference pixels.</param>
/// <param name="NumLayers">Encoder layers.</param>
/// <param name="NumHeads">Heads per layer.</param>
/// <param name="PerImage">This shard's images, by increasing index: DSL, DL-on-heads, output-norm, DSL contrast and
/// direct-effect scores of every head (no importance: ranking does not ablate).</param>
public sealed record RankMeasurements(ValidationShard Shard, int EvaluationImages, string Images, string ModelFingerprint, string ImagesFingerprint,
    int NumLayers, int NumHeads, IReadOnlyList<ImageHeadScores> PerImage);
