using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// The image-set head ranking (<see cref="LensStudy.RankOnImages"/>) in steps, so it can be split over machines:
/// <see cref="Measure"/> scores one shard of the evaluation images in blocks, <see cref="Merge"/> checks and joins the
/// shards, <see cref="Statistics"/> ranks the heads from the per-image scores. An unsharded ranking takes the same path,
/// so merged shards reproduce it bit for bit.
/// </summary>
internal static class ImageSetRankingStudy
{
    /// <summary>Evaluation images scored per forward batch (the validation study's blocks); a shard is whole blocks.</summary>
    public const int BlockSize = ValidationStudy.BlockSize;

    /// <summary>
    /// Every head's DSL (with contrast and direct effect), DL-on-heads and output-norm scores on this shard's evaluation
    /// images. The fingerprints (a hash of every weight) are computed only for a shard (<paramref name="shard"/> not null):
    /// an unsharded ranking is never merged.
    /// </summary>
    /// <exception cref="ArgumentException">More shards than blocks of evaluation images.</exception>
    public static RankMeasurements Measure(IHookedVit encoder, StudyImages images, SteeringOptions steering, ValidationShard? shard,
        IProgress<LensProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(steering);
        bool sharded = shard is not null;
        shard ??= ValidationShard.Whole;
        var eval = images.Evaluation.Pixels;
        int total = (int)eval.shape[0];
        var (first, count) = shard.Range(total, BlockSize);
        var dslLens = new SteeringLens(encoder, steering);
        var dlLens = new DiffusionLens(encoder);
        var perImage = new List<ImageHeadScores>(count);
        int blocks = (count + BlockSize - 1) / BlockSize;
        for (int block = 0; block < blocks; block++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new LensProgress("image-set ranking", block, blocks));
            int start = first + block * BlockSize, size = Math.Min(BlockSize, first + count - start);
            using var pixels = eval.narrow(0, start, size);
            var (dsl, delta, contrast) = HeadScoring.SteeringScores(dslLens, pixels, withContrast: true, cancellationToken);
            var dl = HeadScoring.EmbeddingScores(dlLens, pixels, cancellationToken: cancellationToken);
            var norms = HeadOutputNorm.Compute(encoder, pixels, cancellationToken);
            for (int i = 0; i < size; i++)
                perImage.Add(new ImageHeadScores(start + i, dsl[i], dl[i], norms[i], null) { DslContrast = contrast![i], DirectEffect = delta[i] });
        }
        progress?.Report(new LensProgress("image-set ranking", blocks, blocks));
        var arch = encoder.Architecture;
        return new RankMeasurements(shard, total, images.Description, sharded ? ValidationStudy.ModelFingerprint(encoder) : "",
            sharded ? ValidationStudy.ImagesFingerprint(images) : "",
            arch.NumLayers, arch.NumHeads, perImage);
    }

    /// <summary>Joins the shards after checking that they fit: the same model and image fingerprints and encoder shape, every shard exactly once.</summary>
    /// <exception cref="ShardMismatchException">The shards do not fit; the message names the shard and what differs.</exception>
    public static RankMeasurements Merge(IReadOnlyList<RankMeasurements> shards)
    {
        var ordered = ShardMerge.Ordered(shards, s => s.Shard, s => s.PerImage.Select(p => p.Image), s => s.EvaluationImages, BlockSize, "evaluation images",
            new((s, h) => s.ModelFingerprint == h.ModelFingerprint, "the encoder weights (model fingerprints)"),
            new((s, h) => s.ImagesFingerprint == h.ImagesFingerprint && s.Images == h.Images && s.EvaluationImages == h.EvaluationImages, "the image sets"),
            new((s, h) => s.NumLayers == h.NumLayers && s.NumHeads == h.NumHeads, "the encoder shapes"));
        return ordered[0] with { Shard = ValidationShard.Whole, PerImage = ordered.SelectMany(s => s.PerImage).ToArray() };
    }

    /// <summary>Heads ranked by their image-averaged scores (silent heads last, heads without a visible direct effect last for DSL).</summary>
    /// <exception cref="ArgumentException">The measurements are one shard only (merge them first), or lack a score.</exception>
    public static ImageSetRanking Statistics(RankMeasurements measurements)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        var m = measurements;
        ShardMerge.RequireWhole(m.EvaluationImages, m.PerImage.Select(p => p.Image).ToArray(), m.Shard, "evaluation images", nameof(measurements), "the ranking needs");
        int n = m.NumLayers * m.NumHeads;
        double[][] Matrix(Func<ImageHeadScores, IReadOnlyList<double>?> pick) => m.PerImage.Select(r => pick(r) is { Count: var c } row && c == n ? row.ToArray()
            : throw new ArgumentException($"image {r.Image} lacks one of its {n} DSL, DL, output-norm, contrast or direct-effect scores.", nameof(measurements))).ToArray();
        var (rows, _, _) = ValidationStudy.RankRows(m.NumHeads, Matrix(r => r.Dsl), Matrix(r => r.Dl), Matrix(r => r.OutputNorm), Matrix(r => r.DirectEffect),
            Matrix(r => r.DslContrast));
        return new ImageSetRanking(m.Images, rows, m.PerImage);
    }
}
