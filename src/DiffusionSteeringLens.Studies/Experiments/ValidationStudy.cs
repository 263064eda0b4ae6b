using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// The validation protocol (<see cref="LensStudy.Validate"/>) in two steps, so the expensive per-image step can be split
/// over machines: <see cref="Measure"/> scores one shard of the evaluation images, <see cref="Merge"/> checks and joins the
/// shards, <see cref="Statistics"/> computes every statistic from the per-image data. An unsharded run takes the same
/// path, so merged shards reproduce it bit for bit. Users reach the steps through <see cref="LensStudy.MeasureValidation"/>,
/// <see cref="LensStudy.MergeValidation"/> and <see cref="LensStudy.ValidationStatistics"/>.
/// </summary>
internal static class ValidationStudy
{
    /// <summary>
    /// Evaluation images measured per forward batch. Shards are whole blocks, so each image is always measured in the same
    /// batch (float results can depend on the batch a row is computed in).
    /// </summary>
    public const int BlockSize = 8;

    /// <summary>
    /// The per-image step on one shard of the evaluation images: DSL, DL-on-heads, output-norm and direct-effect scores,
    /// single-head ablation importance, and the ablation curves of the trajectory images. The DSL and greedy orders are
    /// fixed on the calibration images alone (silent and invisible heads judged there too), so every shard ablates the
    /// same orders.
    /// </summary>
    /// <param name="encoder">Encoder.</param>
    /// <param name="images">Calibration, evaluation and reference sets (identical in every shard).</param>
    /// <param name="steering">DSL steering.</param>
    /// <param name="settings">Protocol settings.</param>
    /// <param name="shard">Which evaluation images to measure; null = all.</param>
    /// <param name="progress">Progress sink (one step per block).</param>
    /// <param name="cancellationToken">Cancels between blocks and forwards.</param>
    /// <exception cref="ArgumentException">More shards than blocks of evaluation images; mean ablation without a reference set.</exception>
    public static ValidationMeasurements Measure(IHookedVit encoder, StudyImages images, SteeringOptions steering, ValidationSettings? settings = null,
        ValidationShard? shard = null, IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(steering);
        settings ??= new ValidationSettings();
        shard ??= ValidationShard.Whole;
        var arch = encoder.Architecture;
        int n = arch.NumLayers * arch.NumHeads;
        var eval = images.Evaluation.Pixels;
        int total = (int)eval.shape[0];
        var (first, count) = shard.Range(total, BlockSize);
        using var scope = torch.NewDisposeScope();
        var meanZ = settings.Ablation == AblationKind.Mean ? HeadAblation.MeanZ(encoder, AblationImportance.RequireReference(images.Reference?.Pixels)) : null;
        var dslLens = new SteeringLens(encoder, steering);
        var dlLens = new DiffusionLens(encoder);

        progress?.Report(new LensProgress("calibration orders", 0, 1));
        var calibration = images.Calibration.Pixels;
        var (calibrationScores, calibrationDelta, _) = HeadScoring.SteeringScores(dslLens, calibration, withContrast: false, cancellationToken);
        var calibrationSilent = HeadOutputNorm.SilentHeads(HeadOutputNorm.Compute(encoder, calibration, cancellationToken));
        // Silent heads and heads without a visible direct effect are ablated last, as DSL ranks them.
        var orderScores = RankedLast(ColumnMeans(calibrationScores), calibrationSilent.Concat(DirectEffectVisibility.InvisibleHeads(calibrationDelta)));
        int steps = Math.Clamp(settings.TrajectorySteps ?? Math.Min(16, Math.Max(1, n / 2)), 1, n);
        var dslOrder = orderScores.Select((s, i) => (s, i)).OrderByDescending(x => x.s).ThenBy(x => x.i).Select(x => x.i).Take(steps).ToArray();
        var greedyOrder = AblationTrajectories.Greedy(encoder, calibration, steps, meanZ, cancellationToken).Heads.Select(h => h.Index(arch.NumHeads)).ToArray();
        progress?.Report(new LensProgress("calibration orders", 1, 1));

        int trajectoryImages = Math.Min(total, Math.Max(1, settings.TrajectoryImages));
        var (randomPatterns, curveIndex) = AblationTrajectories.RandomOrderPatterns(n, steps, settings.RandomOrders, settings.Seed);
        int curve = steps + 1;
        var maskValues = AblationTrajectories.PrefixMasks(dslOrder, steps, n).Concat(AblationTrajectories.PrefixMasks(greedyOrder, steps, n))
            .Concat(randomPatterns.SelectMany(p => p)).ToArray();
        var masks = KeepMasks.ToTensor(maskValues, arch); // rows: DSL prefixes, greedy prefixes, random sets

        var perImage = new List<ImageMeasurement>(count);
        int blocks = (count + BlockSize - 1) / BlockSize;
        for (int block = 0; block < blocks; block++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new LensProgress("validation measurements", block, blocks));
            using var blockScope = torch.NewDisposeScope();
            int start = first + block * BlockSize, size = Math.Min(BlockSize, first + count - start);
            var pixels = eval.narrow(0, start, size);
            var (dsl, delta, contrast) = HeadScoring.SteeringScores(dslLens, pixels, withContrast: true, cancellationToken);
            var dl = HeadScoring.EmbeddingScores(dlLens, pixels, cancellationToken: cancellationToken);
            var norms = HeadOutputNorm.Compute(encoder, pixels, cancellationToken);
            var importance = AblationImportance.Compute(encoder, pixels, meanZ, cancellationToken);
            int onTrajectory = Math.Clamp(trajectoryImages - start, 0, size);
            double[][]? sims = null; // [mask][image]
            if (onTrajectory > 0)
            {
                var trajectoryPixels = pixels.narrow(0, 0, onTrajectory);
                sims = AblationTrajectories.PerImageSimilarity(encoder, trajectoryPixels, encoder.Forward(trajectoryPixels), masks, meanZ, cancellationToken);
            }
            for (int b = 0; b < size; b++)
            {
                ImageTrajectory? trajectory = null;
                if (sims is not null && b < onTrajectory)
                {
                    int image = b;
                    double[] Rows(int offset) => Enumerable.Range(0, curve).Select(k => sims[offset + k][image]).ToArray();
                    trajectory = new ImageTrajectory(Rows(0), Rows(curve),
                        curveIndex.Select(c => (IReadOnlyList<double>)c.Select(i => sims[2 * curve + i][image]).ToArray()).ToArray());
                }
                perImage.Add(new ImageMeasurement(start + b, dsl[b], dl[b], norms[b], delta[b], importance[b], trajectory) { DslContrast = contrast![b] });
            }
        }
        progress?.Report(new LensProgress("validation measurements", blocks, blocks));
        return new ValidationMeasurements(shard, total, images.Description, ModelFingerprint(encoder), ImagesFingerprint(images), settings,
            arch.NumLayers, arch.NumHeads, (int)calibration.shape[0], dslOrder, greedyOrder, trajectoryImages, perImage);
    }

    /// <summary>
    /// Joins the shards of one study into measurements of the whole evaluation set, after checking that they fit: the
    /// same model and image fingerprints, settings and calibration-fixed orders, every shard of the same count exactly once.
    /// </summary>
    /// <exception cref="ShardMismatchException">The shards do not fit; the message names the shard and what differs.</exception>
    public static ValidationMeasurements Merge(IReadOnlyList<ValidationMeasurements> shards)
    {
        var ordered = ShardMerge.Ordered(shards, s => s.Shard, s => s.PerImage.Select(p => p.Image), s => s.EvaluationImages, BlockSize, "evaluation images",
            new((s, h) => s.ModelFingerprint == h.ModelFingerprint, "the encoder weights (model fingerprints)"),
            new((s, h) => s.ImagesFingerprint == h.ImagesFingerprint && s.Images == h.Images && s.EvaluationImages == h.EvaluationImages
                && s.CalibrationImages == h.CalibrationImages, "the image sets"),
            new((s, h) => s.Settings == h.Settings, "the protocol settings"),
            new((s, h) => s.NumLayers == h.NumLayers && s.NumHeads == h.NumHeads, "the encoder shapes"),
            new((s, h) => s.DslOrder.SequenceEqual(h.DslOrder) && s.GreedyOrder.SequenceEqual(h.GreedyOrder) && s.TrajectoryImages == h.TrajectoryImages,
                "the calibration-fixed ablation orders"));
        return ordered[0] with { Shard = ValidationShard.Whole, PerImage = ordered.SelectMany(s => s.PerImage).ToArray() };
    }

    /// <summary>
    /// Every statistic of the protocol from the per-image measurements of the whole evaluation set: head-level ρ of each
    /// lens and baseline with permutation p and bootstrap CI, paired Δρ DSL − DL, and the trajectory study.
    /// </summary>
    /// <exception cref="ArgumentException">The measurements are one shard only (merge them first).</exception>
    public static ValidationResult Statistics(ValidationMeasurements measurements)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        var m = measurements;
        ShardMerge.RequireWhole(m.EvaluationImages, m.PerImage.Select(p => p.Image).ToArray(), m.Shard, "evaluation images", nameof(measurements));
        var settings = m.Settings;
        int n = m.NumLayers * m.NumHeads;
        double[][] Matrix(Func<ImageMeasurement, IReadOnlyList<double>> pick) => m.PerImage.Select(r => pick(r).ToArray()).ToArray();
        var dsl = Matrix(r => r.Dsl);
        var dl = Matrix(r => r.Dl);
        var norms = Matrix(r => r.OutputNorm);
        var importance = Matrix(r => r.Importance);
        // Measurements written before the contrast score existed (older shards) have none; the study then reports without it.
        var contrast = m.PerImage.All(r => r.DslContrast is not null) ? Matrix(r => r.DslContrast!) : null;
        var ranking = RankRows(m.NumHeads, dsl, dl, norms, Matrix(r => r.DirectEffect), contrast);

        var kept = Enumerable.Range(0, n).Except(ranking.Silent).ToArray();
        // A head the read-out cannot see enters DSL's correlation ranked last (its raw cos of 1 would rank it first):
        // if it matters, DSL is penalised for missing it instead of being excused or rewarded by accident.
        var dslRanked = dsl.Select(r => RankedLast(r, ranking.Invisible)).ToArray();
        double[][] Keep(double[][] x) => x.Select(r => kept.Select(h => r[h]).ToArray()).ToArray();
        var rng = new Random(settings.Seed);
        var randomHeadScores = Enumerable.Range(0, kept.Length).Select(_ => rng.NextDouble()).ToArray();
        var random = Enumerable.Range(0, dsl.Length).Select(_ => randomHeadScores).ToArray(); // one random ranking, the same on every image
        var imp = Keep(importance);
        var lenses = new List<LensCorrelation>();
        void Add(string name, double[][] scores)
        {
            var c = HeadCorrelation.Compute(scores, imp, settings.Permutations, settings.Bootstrap, settings.Seed);
            lenses.Add(new LensCorrelation(name, c, Verdicts.Correlation(name, c)));
        }
        Add("DSL", Keep(dslRanked));
        Add("DL-on-heads", Keep(dl));
        Add("output-norm", Keep(norms));
        Add("random", random);
        // The contrast score needs no "rank last" rule: a head the read-out cannot see scores ≈ 0 by construction.
        if (contrast is not null) Add(ContrastLens, Keep(contrast));
        var delta = HeadCorrelation.Difference(Keep(dslRanked), Keep(dl), imp, settings.Bootstrap, settings.Seed);
        var contrastVsDl = contrast is null ? null : HeadCorrelation.Difference(Keep(contrast), Keep(dl), imp, settings.Bootstrap, settings.Seed);
        var trajectories = TrajectoryStatistics(m);

        var meanImp = ColumnMeans(importance);
        var rows = ranking.Rows.Select((h, i) => h with { Importance = meanImp[i] }).ToArray();
        var perImage = m.PerImage.Select(r => new ImageHeadScores(r.Image, r.Dsl, r.Dl, r.OutputNorm, r.Importance) { DslContrast = r.DslContrast }).ToArray();
        var heads = Enumerable.Range(0, n).Select(i => HeadTarget.FromIndex(i, m.NumHeads)).ToArray();
        var invisible = ranking.Invisible.Select(i => heads[i]).ToArray();
        var warnings = Verdicts.Warnings(kept.Length, m.EvaluationImages).ToList();
        if (Verdicts.Invisible(invisible) is { } line) warnings.Add(line);
        return new ValidationResult(ScoreSpace.Embedding, settings.Ablation, m.Images,
            "ρ > 0: the lens scores heads that matter more (larger ablation importance) higher", lenses, delta,
            Verdicts.Difference("DSL", "DL-on-heads", delta), trajectories, Verdicts.Trajectory(trajectories),
            ranking.Silent.Select(i => heads[i]).ToArray(), warnings, rows, perImage)
        {
            InvisibleHeads = invisible,
            ContrastVsDl = contrastVsDl,
            ContrastVsDlVerdict = contrastVsDl is null ? null : Verdicts.Difference(ContrastLens, "DL-on-heads", contrastVsDl),
        };
    }

    /// <summary>Name of the DSL contrast score's row in <see cref="ValidationResult.Lenses"/>.</summary>
    internal const string ContrastLens = "DSL-contrast";

    /// <summary>Image-averaged rows ranked by DSL and DL-on-heads (and the contrast score when given), with the silent heads and (writing) invisible heads.</summary>
    internal static (HeadScoreRow[] Rows, int[] Silent, int[] Invisible) RankRows(int numHeads, double[][] dsl, double[][] dl, double[][] norms, double[][] delta,
        double[][]? contrast = null)
    {
        var silent = HeadOutputNorm.SilentHeads(norms).ToArray();
        var invisible = DirectEffectVisibility.InvisibleHeads(delta).Except(silent).ToArray();
        var meanDsl = ColumnMeans(dsl);
        var meanDl = ColumnMeans(dl);
        var meanNorm = ColumnMeans(norms);
        var meanDelta = ColumnMeans(delta);
        var dslRank = HeadScore.RanksOf(RankedLast(meanDsl, silent.Concat(invisible)));
        var dlRank = HeadScore.RanksOf(meanDl);
        var meanContrast = contrast is null ? null : ColumnMeans(contrast);
        var contrastRank = meanContrast is null ? null : HeadScore.RanksOf(RankedLast(meanContrast, silent));
        var rows = Enumerable.Range(0, meanDsl.Length).Select(i => new HeadScoreRow(HeadTarget.FromIndex(i, numHeads), meanDsl[i], dslRank[i],
            meanDl[i], dlRank[i], OutputNorm: meanNorm[i], Silent: silent.Contains(i), DirectEffect: meanDelta[i],
            NoVisibleDirectEffect: invisible.Contains(i))
        {
            DslContrast = meanContrast?[i],
            DslContrastRank = contrastRank?[i],
        }).ToArray();
        return (rows, silent, invisible);
    }

    /// <summary>The trajectory study from the per-image curves: each order's curve is the mean over the trajectory images.</summary>
    private static TrajectoryStudy TrajectoryStatistics(ValidationMeasurements m)
    {
        var curves = m.PerImage.Where(p => p.Trajectory is not null).Select(p => p.Trajectory!).ToArray();
        if (curves.Length != m.TrajectoryImages)
            throw new ArgumentException($"expected ablation curves of {m.TrajectoryImages} trajectory images; the measurements hold {curves.Length}.", nameof(m));
        double[] Mean(Func<ImageTrajectory, IReadOnlyList<double>> pick) =>
            Enumerable.Range(0, m.DslOrder.Count + 1).Select(k => curves.Sum(c => pick(c)[k]) / curves.Length).ToArray();
        var dsl = new Trajectory("dsl", m.DslOrder.Select(i => HeadTarget.FromIndex(i, m.NumHeads)).ToArray(), Mean(c => c.Dsl));
        var greedy = new Trajectory("greedy", m.GreedyOrder.Select(i => HeadTarget.FromIndex(i, m.NumHeads)).ToArray(), Mean(c => c.Greedy));
        var random = Enumerable.Range(0, curves[0].Random.Count).Select(o => Mean(c => c.Random[o])).ToArray();
        return AblationTrajectories.Summarise(dsl, greedy, random, m.CalibrationImages, curves.Length);
    }

    /// <summary>SHA-256 of the encoder's weights in registration order (name, dtype, shape, bytes), or of its shape facts when it is not a module.</summary>
    internal static string ModelFingerprint(IHookedVit encoder)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Text(string s) => hash.AppendData(Encoding.UTF8.GetBytes(s + "\n"));
        var a = encoder.Architecture;
        Text(string.Create(CultureInfo.InvariantCulture, $"{a.Family} {a.NumLayers} {a.NumHeads} {a.ModelDim} {a.HeadDim} {a.MlpDim}"));
        if (encoder is torch.nn.Module module)
            foreach (var (name, tensor) in module.state_dict())
            {
                using var scope = torch.NewDisposeScope();
                Text(string.Create(CultureInfo.InvariantCulture, $"{name} {tensor.dtype} {string.Join("x", tensor.shape)}"));
                hash.AppendData(tensor.detach().cpu().contiguous().bytes);
            }
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
    }

    /// <summary>
    /// SHA-256 of the calibration, evaluation and reference pixels (every shard must load the same sets), followed by any
    /// <paramref name="extra"/> tensors a study derives from them (the overlay study's overlaid copies).
    /// </summary>
    internal static string ImagesFingerprint(StudyImages images, params torch.Tensor[] extra)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var t in new[] { images.Calibration?.Pixels, images.Evaluation?.Pixels, images.Reference?.Pixels }.Concat(extra))
        {
            using var scope = torch.NewDisposeScope();
            if (t is null) { hash.AppendData("none\n"u8); continue; }
            var pixels = t.detach().cpu().to(torch.float32).contiguous();
            hash.AppendData(Encoding.UTF8.GetBytes(string.Join("x", pixels.shape) + "\n"));
            hash.AppendData(pixels.bytes);
        }
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
    }

    /// <summary>A copy of <paramref name="scores"/> with the given heads set to −∞, so any ranking puts them last.</summary>
    internal static double[] RankedLast(IReadOnlyList<double> scores, IEnumerable<int> heads)
    {
        var copy = scores.ToArray();
        foreach (var h in heads) copy[h] = double.NegativeInfinity;
        return copy;
    }

    private static double[] ColumnMeans(double[][] perImage) =>
        Enumerable.Range(0, perImage[0].Length).Select(i => perImage.Average(row => row[i])).ToArray();
}
