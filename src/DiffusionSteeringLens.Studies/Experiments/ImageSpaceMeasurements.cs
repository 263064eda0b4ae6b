namespace DiffusionSteeringLens.Experiments;

/// <summary>Everything the image-space statistics need from one evaluation image (layer-major per head).</summary>
/// <param name="Image">Index within the evaluation set (the first <see cref="ImageSpaceMeasurements.Images"/> are measured).</param>
/// <param name="DslPictures">Per decoder seed (in <see cref="ImageSpaceMeasurements.DecoderSeeds"/> order), every head's DSL
/// picture similarity to the input picture; the statistics average them over the seeds and measure the seeds' agreement.</param>
/// <param name="DlPictures">The same for DL-on-heads.</param>
/// <param name="Importance">Single-head ablation importance.</param>
/// <param name="OutputNorm">Output-norm baseline.</param>
/// <param name="DslEmbedding">DSL scores in embedding space.</param>
/// <param name="DirectEffect">Direct-effect visibility δ of every head (<see cref="HeadScoreRow.DirectEffect"/>).</param>
/// <param name="DlEmbedding">DL-on-heads scores in embedding space.</param>
public sealed record PictureMeasurement(int Image, IReadOnlyList<IReadOnlyList<double>> DslPictures, IReadOnlyList<IReadOnlyList<double>> DlPictures,
    IReadOnlyList<double> Importance, IReadOnlyList<double> OutputNorm, IReadOnlyList<double> DslEmbedding, IReadOnlyList<double> DirectEffect,
    IReadOnlyList<double> DlEmbedding);

/// <summary>
/// The per-image step of the image-space validation (<see cref="LensStudy.ValidateImageSpace"/>) on one shard (or all)
/// of its images, with what every shard shares (decoder seeds and decode settings, protocol settings, fingerprints) so
/// that shards can be checked and merged (<see cref="LensStudy.MergeImageSpace"/>) before the statistics are computed
/// (<see cref="LensStudy.ImageSpaceStatistics"/>).
/// </summary>
/// <param name="Shard">Which part of the measured images this is.</param>
/// <param name="Images">Images of the whole study: the first min(image count, evaluation images) evaluation images.</param>
/// <param name="DecoderSeeds">Decoder seeds, increasing.</param>
/// <param name="DecodeSettings">Per decoder seed (same order), the <see cref="PictureSweep.SettingsKey"/> of its picture sweep:
/// what besides the embedding determines a picture (in the <c>dsl</c> tool the decoder's location, steps, guidance, size,
/// seed and dtype).</param>
/// <param name="ImageSets">Description of the image sets.</param>
/// <param name="ModelFingerprint">SHA-256 of the encoder's weights (names, dtypes, shapes, bytes).</param>
/// <param name="ImagesFingerprint">SHA-256 of the calibration, evaluation and reference pixels.</param>
/// <param name="Settings">Protocol settings (ablation kind, permutations, bootstrap, seed).</param>
/// <param name="NumLayers">Encoder layers.</param>
/// <param name="NumHeads">Heads per layer.</param>
/// <param name="PerImage">This shard's images, by increasing index.</param>
public sealed record ImageSpaceMeasurements(ValidationShard Shard, int Images, IReadOnlyList<long> DecoderSeeds, IReadOnlyList<string> DecodeSettings,
    string ImageSets, string ModelFingerprint, string ImagesFingerprint, ValidationSettings Settings, int NumLayers, int NumHeads,
    IReadOnlyList<PictureMeasurement> PerImage);
