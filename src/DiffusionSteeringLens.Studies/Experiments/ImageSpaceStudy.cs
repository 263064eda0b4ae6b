using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// The image-space validation (<see cref="LensStudy.ValidateImageSpace"/>) in two steps, so its expensive per-image step
/// (2 × heads × seeds decoded pictures per image) can be split over machines: <see cref="Measure"/> scores one shard of
/// the images, <see cref="Merge"/> checks and joins the shards, <see cref="Statistics"/> computes every statistic from the
/// per-image data (silent and invisible heads included). An unsharded run takes the same path, so merged shards reproduce
/// it bit for bit. Users reach the steps through <see cref="LensStudy.MeasureImageSpace"/>,
/// <see cref="LensStudy.MergeImageSpace"/> and <see cref="LensStudy.ImageSpaceStatistics"/>.
/// </summary>
internal static class ImageSpaceStudy
{
    /// <summary>
    /// Images measured per forward batch of the embedding-space steps (importance, output norms, embedding scores); a
    /// shard is whole blocks. One image: float results can depend on the batch a row is computed in, so a block is the
    /// unit a shard never splits, and one image per block lets a study of k images run on up to k machines. Larger batches
    /// would save nothing that matters, since every image costs 2 × heads × seeds decoded pictures (each already decoded
    /// and scored on its own) against a handful of encoder forwards.
    /// </summary>
    public const int BlockSize = 1;

    /// <summary>
    /// The per-image step on one shard of the first min(<paramref name="imageCount"/>, evaluation images) images: every
    /// head's DSL and DL-on-heads picture similarity for each decoder seed, single-head ablation importance, output norm,
    /// DSL embedding scores with their direct-effect visibility δ, and DL-on-heads embedding scores.
    /// </summary>
    /// <param name="encoder">Encoder.</param>
    /// <param name="images">Evaluation (and, for mean ablation, reference) images, identical in every shard.</param>
    /// <param name="steering">DSL steering.</param>
    /// <param name="decoders">One picture sweep per decoder seed (at least two).</param>
    /// <param name="imageCount">Evaluation images decoded (the first ones).</param>
    /// <param name="settings">Ablation kind, permutations, bootstrap, seed.</param>
    /// <param name="shard">Which images to measure; null = all.</param>
    /// <param name="progress">Progress sink (one step per block; also receives the decoder's steps).</param>
    /// <param name="cancellationToken">Cancels between decode batches and forwards.</param>
    /// <exception cref="ArgumentException">Fewer than two decoder seeds, an image count below 1, more shards than images, or
    /// mean ablation without a reference set.</exception>
    public static ImageSpaceMeasurements Measure(IHookedVit encoder, StudyImages images, SteeringOptions steering,
        IReadOnlyDictionary<long, PictureSweep> decoders, int imageCount, ValidationSettings? settings = null, ValidationShard? shard = null,
        IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(steering);
        ArgumentNullException.ThrowIfNull(decoders);
        if (decoders.Count < 2)
            throw new ArgumentException($"image-space validation needs at least two decoder seeds (got {decoders.Count}): one seed's picture is one sample of the decoder's noise.", nameof(decoders));
        ArgumentOutOfRangeException.ThrowIfLessThan(imageCount, 1);
        settings ??= new ValidationSettings();
        shard ??= ValidationShard.Whole;
        var arch = encoder.Architecture;
        var eval = images.Evaluation;
        int k = (int)Math.Min(imageCount, eval.Pixels.shape[0]);
        var (first, count) = shard.Range(k, BlockSize);
        using var scope = torch.NewDisposeScope();
        var meanZ = settings.Ablation == AblationKind.Mean ? HeadAblation.MeanZ(encoder, AblationImportance.RequireReference(images.Reference?.Pixels)) : null;
        var heads = LensTarget.AllHeads(arch);
        var dslLens = new SteeringLens(encoder, steering);
        var dlLens = new DiffusionLens(encoder);
        var seeds = decoders.Keys.Order().ToArray();
        var sweeps = seeds.Select(s => decoders[s]).ToArray();

        var perImage = new List<PictureMeasurement>(count);
        int blocks = (count + BlockSize - 1) / BlockSize;
        for (int block = 0; block < blocks; block++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new LensProgress("image-space measurements", block, blocks));
            using var blockScope = torch.NewDisposeScope();
            int start = first + block * BlockSize, size = Math.Min(BlockSize, first + count - start);
            var pixels = eval.Pixels.narrow(0, start, size);
            var importance = AblationImportance.Compute(encoder, pixels, meanZ, cancellationToken);
            var norms = HeadOutputNorm.Compute(encoder, pixels, cancellationToken);
            var (dslEmbedding, delta, _) = HeadScoring.SteeringScores(dslLens, pixels, withContrast: false, cancellationToken);
            var dlEmbedding = HeadScoring.EmbeddingScores(dlLens, pixels, cancellationToken: cancellationToken);
            for (int b = 0; b < size; b++)
            {
                int i = start + b;
                var (dslPictures, dlPictures) = PictureScores(encoder, eval, i, steering, heads, sweeps, progress, cancellationToken);
                perImage.Add(new PictureMeasurement(i, dslPictures, dlPictures, importance[b], norms[b], dslEmbedding[b], delta[b], dlEmbedding[b]));
            }
        }
        progress?.Report(new LensProgress("image-space measurements", blocks, blocks));
        return new ImageSpaceMeasurements(shard, k, seeds, sweeps.Select(s => s.SettingsKey).ToArray(), images.Description,
            ValidationStudy.ModelFingerprint(encoder), ValidationStudy.ImagesFingerprint(images), settings, arch.NumLayers, arch.NumHeads, perImage);
    }

    /// <summary>Every head's DSL and DL-on-heads picture similarity to evaluation image <paramref name="image"/>'s picture, per decoder sweep.</summary>
    private static (double[][] Dsl, double[][] Dl) PictureScores(IHookedVit encoder, PreparedInput eval, int image, SteeringOptions steering,
        IReadOnlyList<LensTarget> heads, IReadOnlyList<PictureSweep> sweeps, IProgress<LensProgress>? progress, CancellationToken cancellationToken)
    {
        var dsl = new double[sweeps.Count][];
        var dl = new double[sweeps.Count][];
        using var input = new PreparedInput(eval.Pixels.narrow(0, image, 1), eval.Pictures.narrow(0, image, 1)) { Processor = eval.Processor };
        for (int s = 0; s < sweeps.Count; s++)
        {
            var context = new StudyContext(encoder, input, sweeps[s], null, progress);
            // One encoder pass for both lenses (bit-identical to two separate read-outs; SteeringAndDirectReadoutsTests).
            // The sweep names carry the image's index in the whole set, so every shard stores its pictures where an unsharded run would.
            var (dslSweep, dlSweep) = LensStudy.SteeringAndDirectReadouts(context, steering, heads, $"image{image}-dsl-heads", $"image{image}-dl-heads", cancellationToken);
            using (dslSweep)
            using (dlSweep)
            {
                dsl[s] = dslSweep.Readouts.Select(r => r.ImageSimilarity!.Value).ToArray();
                dl[s] = dlSweep.Readouts.Select(r => r.ImageSimilarity!.Value).ToArray();
            }
        }
        return (dsl, dl);
    }

    /// <summary>
    /// Joins the shards of one image-space study into measurements of all its images, after checking that they fit: the
    /// same model and image fingerprints, image count, decoder seeds and decode settings, protocol settings and encoder
    /// shape, every shard of the same count exactly once.
    /// </summary>
    /// <exception cref="ShardMismatchException">The shards do not fit; the message names the shard and what differs.</exception>
    public static ImageSpaceMeasurements Merge(IReadOnlyList<ImageSpaceMeasurements> shards)
    {
        var ordered = ShardMerge.Ordered(shards, s => s.Shard, s => s.PerImage.Select(p => p.Image), s => s.Images, BlockSize, "images",
            new((s, h) => s.ModelFingerprint == h.ModelFingerprint, "the encoder weights (model fingerprints)"),
            new((s, h) => s.ImagesFingerprint == h.ImagesFingerprint && s.ImageSets == h.ImageSets, "the image sets"),
            new((s, h) => s.Images == h.Images, "the image counts (min of --image-count and the evaluation images)"),
            new((s, h) => s.DecoderSeeds.SequenceEqual(h.DecoderSeeds), "the decoder seeds"),
            new((s, h) => s.DecodeSettings.SequenceEqual(h.DecodeSettings), "the decoders or decode settings"),
            new((s, h) => s.Settings == h.Settings, "the protocol settings"),
            new((s, h) => s.NumLayers == h.NumLayers && s.NumHeads == h.NumHeads, "the encoder shapes"));
        return ordered[0] with { Shard = ValidationShard.Whole, PerImage = ordered.SelectMany(s => s.PerImage).ToArray() };
    }

    /// <summary>
    /// Every statistic of the image-space validation from the per-image measurements of all its images: silent heads
    /// (left out) and heads without a visible direct effect (ranked last by DSL) judged on every image, head-level ρ of
    /// the seed-averaged picture scores, the embedding scores and output norm with permutation p and bootstrap CI, paired
    /// Δρ DSL − DL of the picture scores, and the seeds' agreement.
    /// </summary>
    /// <exception cref="ArgumentException">The measurements are one shard only (merge them first).</exception>
    public static ImageSpaceValidationResult Statistics(ImageSpaceMeasurements measurements)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        var m = measurements;
        int k = m.Images;
        ShardMerge.RequireWhole(k, m.PerImage.Select(p => p.Image).ToArray(), m.Shard, "images", nameof(measurements));
        var settings = m.Settings;
        int n = m.NumLayers * m.NumHeads;
        int seeds = m.DecoderSeeds.Count;
        double[][] Matrix(Func<PictureMeasurement, IReadOnlyList<double>> pick) => m.PerImage.Select(r => pick(r).ToArray()).ToArray();
        // bySeed[seed][image][head] = similarity of each head's picture to the input picture.
        double[][][] BySeed(Func<PictureMeasurement, IReadOnlyList<IReadOnlyList<double>>> pick) =>
            Enumerable.Range(0, seeds).Select(s => Matrix(r => pick(r)[s])).ToArray();
        var dslBySeed = BySeed(r => r.DslPictures);
        var dlBySeed = BySeed(r => r.DlPictures);
        double[][] SeedMean(double[][][] bySeed) =>
            Enumerable.Range(0, k).Select(i => Enumerable.Range(0, n).Select(h => bySeed.Average(s => s[i][h])).ToArray()).ToArray();
        var dslImage = SeedMean(dslBySeed);
        var dlImage = SeedMean(dlBySeed);
        var importance = Matrix(r => r.Importance);
        var norms = Matrix(r => r.OutputNorm);
        var dslEmbedding = Matrix(r => r.DslEmbedding);
        var delta = Matrix(r => r.DirectEffect);
        var dlEmbedding = Matrix(r => r.DlEmbedding);

        var silent = HeadOutputNorm.SilentHeads(norms);
        var invisible = DirectEffectVisibility.InvisibleHeads(delta).Except(silent).ToArray();
        var kept = Enumerable.Range(0, n).Except(silent).ToArray();
        double[][] Keep(double[][] x) => x.Select(r => kept.Select(h => r[h]).ToArray()).ToArray();
        double[][] DslRule(double[][] x) => x.Select(r => ValidationStudy.RankedLast(r, invisible)).ToArray();
        var imp = Keep(importance);
        var lenses = new List<LensCorrelation>();
        void Add(string name, double[][] scores)
        {
            var c = HeadCorrelation.Compute(Keep(scores), imp, settings.Permutations, settings.Bootstrap, settings.Seed);
            lenses.Add(new LensCorrelation(name, c, Verdicts.Correlation(name, c)));
        }
        Add("DSL (image)", DslRule(dslImage));
        Add("DL-on-heads (image)", dlImage);
        Add("DSL (embedding)", DslRule(dslEmbedding));
        Add("DL-on-heads (embedding)", dlEmbedding);
        Add("output-norm", norms);
        var difference = HeadCorrelation.Difference(Keep(DslRule(dslImage)), Keep(dlImage), imp, settings.Bootstrap, settings.Seed);
        var perImage = Enumerable.Range(0, k).Select(i => new ImageHeadScores(i, dslImage[i], dlImage[i], norms[i], importance[i])).ToArray();
        return new ImageSpaceValidationResult(k, m.DecoderSeeds.ToArray(), settings.Ablation, lenses, difference,
            Verdicts.Difference("DSL (image)", "DL-on-heads (image)", difference), SeedAgreement(dslBySeed), SeedAgreement(dlBySeed),
            silent.Select(h => HeadTarget.FromIndex(h, m.NumHeads)).ToArray(), Verdicts.Warnings(kept.Length, k), perImage);
    }

    /// <summary>Mean Spearman ρ between the score vectors of every pair of seeds, over images.</summary>
    internal static double SeedAgreement(double[][][] bySeed)
    {
        var rhos = new List<double>();
        for (int a = 0; a < bySeed.Length; a++)
            for (int b = a + 1; b < bySeed.Length; b++)
                for (int i = 0; i < bySeed[a].Length; i++)
                    rhos.Add(SpearmanCorrelation.Rho(bySeed[a][i], bySeed[b][i]));
        return rhos.Count == 0 ? double.NaN : rhos.Average();
    }
}
