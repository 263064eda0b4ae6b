using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Experiments;

// The image-space validation and its two steps, so the per-image step (thousands of decoded pictures) can run on several
// machines (dsl image-scores --shard i/n, then dsl merge); an unsharded ValidateImageSpace takes the same path, so merged
// shards reproduce it bit for bit.
public static partial class LensStudy
{
    /// <summary>Images measured per forward batch of the image-space validation; a shard is always whole blocks (see <see cref="ValidationShard.Range"/>).</summary>
    public const int ImageSpaceBlockSize = ImageSpaceStudy.BlockSize;

    /// <summary>
    /// Image-space validation (see <see cref="ImageSpaceValidationResult"/>) on the first <paramref name="imageCount"/>
    /// evaluation images: 2 × heads × images × seeds decoded pictures, each stored by its sweep (a re-run with resume
    /// reuses them). Silent heads are left out and heads without a visible direct effect are ranked last by DSL, as in
    /// <see cref="Validate"/>. The same as <see cref="ImageSpaceStatistics"/> of <see cref="MeasureImageSpace"/> on every
    /// image, which is how merged shards reproduce it bit for bit.
    /// </summary>
    /// <param name="encoder">Encoder.</param>
    /// <param name="images">Evaluation (and, for mean ablation, reference) images.</param>
    /// <param name="steering">DSL steering.</param>
    /// <param name="decoders">One picture sweep per decoder seed (at least two, so seed agreement can be measured).</param>
    /// <param name="imageCount">Evaluation images decoded.</param>
    /// <param name="settings">Ablation kind, permutations, bootstrap, seed.</param>
    /// <param name="progress">Progress sink (also receives the decoder's steps).</param>
    /// <param name="cancellationToken">Cancels between decode batches and forwards.</param>
    /// <exception cref="ArgumentException">Fewer than two decoder seeds or an image count below 1.</exception>
    public static ImageSpaceValidationResult ValidateImageSpace(IHookedVit encoder, StudyImages images, SteeringOptions steering,
        IReadOnlyDictionary<long, PictureSweep> decoders, int imageCount, ValidationSettings? settings = null,
        IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default) =>
        ImageSpaceStudy.Statistics(ImageSpaceStudy.Measure(encoder, images, steering, decoders, imageCount, settings, null, progress, cancellationToken));

    /// <summary>
    /// The per-image step of <see cref="ValidateImageSpace"/> on one shard of its images (the first
    /// min(<paramref name="imageCount"/>, evaluation images)): every head's DSL and DL-on-heads picture similarity for each
    /// decoder seed, single-head ablation importance, output norm, DSL embedding scores with their direct-effect
    /// visibility, and DL-on-heads embedding scores. Pictures are stored under the image's index in the whole set, so a
    /// shard's sweeps hold what an unsharded run's would.
    /// </summary>
    /// <param name="encoder">Encoder.</param>
    /// <param name="images">Evaluation (and, for mean ablation, reference) images, identical in every shard.</param>
    /// <param name="steering">DSL steering.</param>
    /// <param name="decoders">One picture sweep per decoder seed (at least two).</param>
    /// <param name="imageCount">Evaluation images decoded (the first ones).</param>
    /// <param name="settings">Ablation kind, permutations, bootstrap, seed.</param>
    /// <param name="shard">Which images to measure (blocks of <see cref="ImageSpaceBlockSize"/>); null = all.</param>
    /// <param name="progress">Progress sink (one step per block; also receives the decoder's steps).</param>
    /// <param name="cancellationToken">Cancels between decode batches and forwards.</param>
    /// <exception cref="ArgumentException">Fewer than two decoder seeds, an image count below 1, more shards than images, or
    /// mean ablation without a reference set.</exception>
    public static ImageSpaceMeasurements MeasureImageSpace(IHookedVit encoder, StudyImages images, SteeringOptions steering,
        IReadOnlyDictionary<long, PictureSweep> decoders, int imageCount, ValidationSettings? settings = null, ValidationShard? shard = null,
        IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default) =>
        ImageSpaceStudy.Measure(encoder, images, steering, decoders, imageCount, settings, shard, progress, cancellationToken);

    /// <summary>
    /// Joins the shards of one image-space study into measurements of all its images, after checking that they fit: the
    /// same model and image fingerprints, image count, decoder seeds and decode settings (so shards decoded by another
    /// decoder are refused), protocol settings and encoder shape, every shard of the same count exactly once.
    /// </summary>
    /// <exception cref="ShardMismatchException">The shards do not fit; the message names the shard and what differs.</exception>
    public static ImageSpaceMeasurements MergeImageSpace(IReadOnlyList<ImageSpaceMeasurements> shards) => ImageSpaceStudy.Merge(shards);

    /// <summary>
    /// Every statistic of <see cref="ValidateImageSpace"/> from the per-image measurements of all its images: silent and
    /// invisible heads judged on every image, head-level ρ of the seed-averaged picture scores, the embedding scores and
    /// output norm with permutation p and bootstrap CI, paired Δρ DSL − DL, and the decoder seeds' agreement.
    /// </summary>
    /// <exception cref="ArgumentException">The measurements are one shard only (merge them first).</exception>
    public static ImageSpaceValidationResult ImageSpaceStatistics(ImageSpaceMeasurements measurements) => ImageSpaceStudy.Statistics(measurements);
}
