using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Experiments;

// The image-set ranking and the overlay-removal study in steps, so their per-image work can run on several machines
// (dsl rank --shard i/n, dsl overlay --shard i/n, then dsl merge); the unsharded RankOnImages and Overlay take the same
// steps, so merged shards reproduce them bit for bit.
public static partial class LensStudy
{
    /// <summary>Evaluation images scored per forward batch of the image-set ranking; a shard is always whole blocks.</summary>
    public const int RankBlockSize = ImageSetRankingStudy.BlockSize;

    /// <summary>Evaluation images measured per forward batch of the overlay study; a shard is always whole blocks.</summary>
    public const int OverlayBlockSize = OverlayStudySteps.BlockSize;

    /// <summary>
    /// The per-image step of <see cref="RankOnImages"/> on one shard of the evaluation images: every head's DSL, DSL
    /// contrast, direct-effect, DL-on-heads and output-norm scores, with the fingerprints the merge checks.
    /// </summary>
    /// <param name="encoder">Encoder.</param>
    /// <param name="images">Image sets (identical in every shard).</param>
    /// <param name="steering">DSL steering.</param>
    /// <param name="shard">Which evaluation images to score (blocks of <see cref="RankBlockSize"/>).</param>
    /// <param name="progress">Progress sink (one step per block).</param>
    /// <param name="cancellationToken">Cancels between blocks and forwards.</param>
    /// <exception cref="ArgumentException">More shards than blocks of evaluation images.</exception>
    public static RankMeasurements MeasureRankOnImages(IHookedVit encoder, StudyImages images, SteeringOptions steering, ValidationShard shard,
        IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(shard);
        return ImageSetRankingStudy.Measure(encoder, images, steering, shard, progress, cancellationToken);
    }

    /// <summary>Joins the shards of one image-set ranking after checking that they fit (model and image fingerprints, encoder shape, every shard once).</summary>
    /// <exception cref="ShardMismatchException">The shards do not fit; the message names the shard and what differs.</exception>
    public static RankMeasurements MergeRankOnImages(IReadOnlyList<RankMeasurements> shards) => ImageSetRankingStudy.Merge(shards);

    /// <summary>The ranking of <see cref="RankOnImages"/> from the per-image scores of every evaluation image.</summary>
    /// <exception cref="ArgumentException">The measurements are one shard only (merge them first).</exception>
    public static ImageSetRanking RankOnImagesStatistics(RankMeasurements measurements) => ImageSetRankingStudy.Statistics(measurements);

    /// <summary>
    /// The per-image step of <see cref="Overlay"/> on one shard of its evaluation images (the first
    /// min(<paramref name="maxImages"/>, evaluation set)): the calibration step (overlay direction, every rule's head
    /// scores, silent heads — the same in every shard), then each image's presence, clean similarity and clean shift for
    /// every compared head set. No pictures are decoded.
    /// </summary>
    /// <param name="encoder">Encoder.</param>
    /// <param name="images">Calibration and evaluation sets (identical in every shard).</param>
    /// <param name="steering">DSL steering.</param>
    /// <param name="topK">Heads each rule ablates.</param>
    /// <param name="shard">Which evaluation images to measure (blocks of <see cref="OverlayBlockSize"/>).</param>
    /// <param name="seed">Seed of the random subsets.</param>
    /// <param name="maxImages">Evaluation images of the study (the first ones).</param>
    /// <param name="maxSubsets">Exact enumeration up to this many subsets, else this many random ones.</param>
    /// <param name="planted">Heads known by construction to carry the overlay, or null.</param>
    /// <param name="progress">Progress sink (one step per block).</param>
    /// <param name="cancellationToken">Cancels between blocks and forwards.</param>
    /// <exception cref="ArgumentException">More shards than blocks, a planted head outside the model, or an overlay that does not change the output.</exception>
    public static OverlayMeasurements MeasureOverlay(IHookedVit encoder, StudyImages images, SteeringOptions steering, int topK, ValidationShard shard,
        int seed = 0, int maxImages = 16, int maxSubsets = OverlayStudy.DefaultMaxSubsets, IReadOnlyList<HeadTarget>? planted = null,
        IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(shard);
        return OverlayStudySteps.Measure(encoder, images, steering, topK, maxImages, maxSubsets, seed, planted, shard, progress, cancellationToken);
    }

    /// <summary>
    /// Joins the shards of one overlay study after checking that they fit: model and image fingerprints, settings, encoder
    /// shape, the head sets chosen on the calibration images, every shard exactly once.
    /// </summary>
    /// <exception cref="ShardMismatchException">The shards do not fit; the message names the shard and what differs.</exception>
    public static OverlayMeasurements MergeOverlay(IReadOnlyList<OverlayMeasurements> shards) => OverlayStudySteps.Merge(shards);

    /// <summary>The result and verdict of <see cref="Overlay"/> from the per-image values of every evaluation image (no pictures).</summary>
    /// <exception cref="ArgumentException">The measurements are one shard only (merge them first).</exception>
    public static OverlayOutcome OverlayStatistics(OverlayMeasurements measurements)
    {
        var result = OverlayStudySteps.Statistics(measurements);
        return new OverlayOutcome(result, Verdicts.Overlay(result), null);
    }
}
