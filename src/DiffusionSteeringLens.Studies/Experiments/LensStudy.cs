using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// The experiment steps behind the <c>dsl</c> commands, as plain library calls returning result records: lens read-outs
/// (layer sweep, steered targets), head ranking, importance validation and the overlay-removal study.
/// </summary>
public static partial class LensStudy
{
    /// <summary>DL layer sweep: every <c>resid_post</c> read out (and decoded when the context decodes).</summary>
    public static ReadoutSweep LayerSweep(StudyContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Readouts(context, new DiffusionLens(context.Encoder), LensTarget.LayerSweep(context.Encoder.Architecture), "dl-layers", cancellationToken);
    }

    /// <summary>
    /// Applies a lens to targets: embedding-space similarity to the clean embedding (mean over the batch) and, when the
    /// context decodes, every image's pictures and their similarity to its input picture (mean over the batch); the
    /// pictures of the first image are returned.
    /// </summary>
    /// <param name="context">Encoder, input, decoding.</param>
    /// <param name="lens">The lens.</param>
    /// <param name="targets">Targets (all must suit the lens).</param>
    /// <param name="sweepName">Name of the picture sub-folder.</param>
    /// <param name="cancellationToken">Cancels between stages and decode batches.</param>
    public static ReadoutSweep Readouts(StudyContext context, ILens lens, IReadOnlyList<LensTarget> targets, string sweepName,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(lens);
        context.Progress?.Report(new LensProgress($"{lens.Name} {sweepName}", 0, 1));
        // No dispose scope here: Score moves the returned pictures to the caller's scope.
        // DL's cached run also yields the clean output (one encoder pass); other lenses need a plain forward beside.
        torch.Tensor e, clean;                                                                              // [B, N, P], [B, P]
        if (lens is DiffusionLens dl && ReferenceEquals(dl.Encoder, context.Encoder))
            (e, clean) = dl.ComputeWithClean(context.Input.Pixels, targets, null, cancellationToken);
        else
        {
            e = lens.ComputeEmbeddings(context.Input.Pixels, targets, null, cancellationToken);
            try { clean = context.Encoder.Forward(context.Input.Pixels); }
            catch
            {
                e.Dispose();
                throw;
            }
        }
        using (e)
        using (clean)
        {
            context.Progress?.Report(new LensProgress($"{lens.Name} {sweepName}", 1, 1));
            using var scorer = NewScorer(context);
            return Score(context, lens.Name, targets, e, clean, sweepName, scorer, cancellationToken);
        }
    }

    /// <summary>
    /// DSL and DL-on-the-same-targets read-outs (as <see cref="Readouts"/> gives each) from one encoder pass: under full
    /// patching DSL's closed form, DL's direct read-outs R(o_s) and the clean output all come from the same cached
    /// forward (other DSL options fall back to separate forwards). Used by <c>dsl steer</c> and <see cref="RankHeads"/>.
    /// </summary>
    /// <param name="context">Encoder, input, decoding.</param>
    /// <param name="steering">DSL options.</param>
    /// <param name="targets">Heads and MLPs.</param>
    /// <param name="dslSweepName">Picture sub-folder of the DSL pictures.</param>
    /// <param name="dlSweepName">Picture sub-folder of the DL pictures.</param>
    /// <param name="cancellationToken">Cancels between stages and decode batches.</param>
    public static (ReadoutSweep Dsl, ReadoutSweep Dl) SteeringAndDirectReadouts(StudyContext context, SteeringOptions steering,
        IReadOnlyList<LensTarget> targets, string dslSweepName, string dlSweepName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(steering);
        var dslLens = new SteeringLens(context.Encoder, steering);
        var dlLens = new DiffusionLens(context.Encoder);
        context.Progress?.Report(new LensProgress($"DSL+DL {dslSweepName}", 0, 1));
        using var both = dslLens.ComputeWithDirect(context.Input.Pixels, targets, null, cancellationToken);
        context.Progress?.Report(new LensProgress($"DSL+DL {dslSweepName}", 1, 1));
        // Both lenses' pictures are scored against the same input pictures, embedded once, and decoded together: per
        // input image, DSL's and DL's pictures share the decoder calls (one batch when the decoder batches pictures).
        using var scorer = NewScorer(context);
        var decoded = context.Pictures is { } sweep ? DecodeTogether(sweep, targets, new[] { (dslSweepName, both.Steered), (dlSweepName, both.Direct) }, context, cancellationToken) : null;
        try
        {
            var dsl = Score(context, dslLens.Name, targets, both.Steered, both.Clean, dslSweepName, scorer, cancellationToken, decoded?[0]);
            try { return (dsl, Score(context, dlLens.Name, targets, both.Direct, both.Clean, dlSweepName, scorer, cancellationToken, decoded?[1])); }
            catch
            {
                dsl.Dispose();
                throw;
            }
        }
        finally
        {
            // What Score did not take (it takes each image's pictures as it scores them), also after a failure.
            foreach (var t in decoded?.SelectMany(l => l) ?? Enumerable.Empty<torch.Tensor?>()) t?.Dispose();
        }
    }

    /// <summary>
    /// Every input image's pictures of every lens's read-outs e [B, N, P], the lenses of one image decoded in one
    /// <see cref="PictureSweep.RunMany"/> pass. Result [lens][image], owned by the caller and outside any dispose scope.
    /// </summary>
    private static torch.Tensor?[][] DecodeTogether(PictureSweep sweep, IReadOnlyList<LensTarget> targets, IReadOnlyList<(string SweepName, torch.Tensor E)> lenses,
        StudyContext context, CancellationToken cancellationToken)
    {
        var labels = targets.Select(t => t.Label).ToArray();
        long batch = lenses[0].E.shape[0];
        var result = lenses.Select(_ => new torch.Tensor?[batch]).ToArray();
        try
        {
            for (int b = 0; b < batch; b++)
            {
                using var scope = torch.NewDisposeScope();
                var parts = lenses.Select(l => (batch == 1 ? l.SweepName : $"{l.SweepName}-image{b}", (IReadOnlyList<string>)labels, l.E.select(0, b))).ToArray();
                var pictures = sweep.RunMany(parts, context.Progress, cancellationToken);
                for (int k = 0; k < pictures.Length; k++) result[k][b] = pictures[k].DetachFromDisposeScope();
            }
            return result;
        }
        catch
        {
            foreach (var t in result.SelectMany(l => l)) t?.Dispose();
            throw;
        }
    }

    // Null when the context does not decode (then nothing is scored in picture space).
    private static InputPictureScorer? NewScorer(StudyContext context) =>
        context.Pictures is null ? null : new InputPictureScorer(context.ImageSimilarity!, context.Input.Pictures);

    /// <summary>
    /// Scores read-outs e [B, N, P] against the clean output [B, P]: embedding cosine (mean over the batch) and, when the
    /// context decodes, every image's pictures and their similarity to its input picture; the first image's pictures
    /// are returned. e and clean stay the caller's. <c>decoded</c> holds each image's pictures when they were decoded
    /// beforehand (taken from the array as they are used; outside any dispose scope), else null: decoded here, image by image.
    /// </summary>
    private static ReadoutSweep Score(StudyContext context, string lensName, IReadOnlyList<LensTarget> targets, torch.Tensor e, torch.Tensor clean,
        string sweepName, InputPictureScorer? scorer, CancellationToken cancellationToken, torch.Tensor?[]? decoded = null)
    {
        using var scope = torch.NewDisposeScope();
        var embSim = EmbeddingSimilarity.Cosine(e, clean.unsqueeze(1)).mean(new long[] { 0 }).cpu().data<double>().ToArray();
        double[]? imgSim = null;
        torch.Tensor? pictures = null;
        if (context.Pictures is { } sweep)
        {
            // Every image is decoded and scored, so image scores are batch means like the embedding scores; the
            // first image's pictures are returned for the grids.
            var labels = targets.Select(t => t.Label).ToArray();
            long batch = e.shape[0];
            var sums = new double[targets.Count];
            for (int b = 0; b < batch; b++)
            {
                var image = decoded is null
                    ? sweep.Run(batch == 1 ? sweepName : $"{sweepName}-image{b}", labels, e.select(0, b), context.Progress, cancellationToken)
                    : Take(decoded, b);
                var sim = scorer!.Similarity(image, b);
                for (int i = 0; i < sums.Length; i++) sums[i] += sim[i];
                if (b == 0) pictures = image;
                else image.Dispose();
            }
            imgSim = sums.Select(v => v / batch).ToArray();
        }
        var records = targets.Select((t, i) => new TargetReadout(lensName, t.Label, t.Layer, embSim[i], imgSim?[i])).ToArray();
        return new ReadoutSweep(records, pictures?.MoveToOuterDisposeScope());
    }

    private static torch.Tensor Take(torch.Tensor?[] decoded, int b)
    {
        var t = decoded[b] ?? throw new InvalidOperationException($"image {b}'s pictures were already taken.");
        decoded[b] = null;
        return t;
    }

    /// <summary>Scores and ranks every head with DSL (given steering) and with DL-on-heads.</summary>
    public static HeadRanking RankHeads(StudyContext context, SteeringOptions steering, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var arch = context.Encoder.Architecture;
        var heads = LensTarget.AllHeads(arch);
        var (dsl, dlSweep) = SteeringAndDirectReadouts(context, steering, heads, "dsl-heads", "dl-heads", cancellationToken);
        try
        {
            using var dl = dlSweep;
            var dslPrimary = dsl.Readouts.Select(r => r.ImageSimilarity ?? r.EmbeddingSimilarity).ToArray();
            var dlPrimary = dl.Readouts.Select(r => r.ImageSimilarity ?? r.EmbeddingSimilarity).ToArray();
            var dslRank = HeadScore.RanksOf(dslPrimary);
            var dlRank = HeadScore.RanksOf(dlPrimary);
            var rows = heads.Select((h, i) => new HeadScoreRow(h,
                dsl.Readouts[i].EmbeddingSimilarity, dslRank[i], dl.Readouts[i].EmbeddingSimilarity, dlRank[i],
                dsl.Readouts[i].ImageSimilarity, dl.Readouts[i].ImageSimilarity)).ToArray();
            var dlPictures = dl.Pictures?.alias();
            return new HeadRanking(rows, dsl.Pictures, dlPictures);
        }
        catch
        {
            dsl.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Ranks every head by its DSL and DL-on-heads embedding scores averaged over the evaluation images (no ablation),
    /// keeping the per-image scores and the output-norm baseline. DSL ranks last both silent heads (they write almost
    /// nothing) and heads with no visible direct effect (the read-out cannot see their write, so DSL's cos = 1 says
    /// nothing about them); only silent heads are marked for exclusion from the correlations.
    /// </summary>
    public static ImageSetRanking RankOnImages(Models.Vit.IHookedVit encoder, StudyImages images, SteeringOptions steering,
        CancellationToken cancellationToken = default) =>
        ImageSetRankingStudy.Statistics(ImageSetRankingStudy.Measure(encoder, images, steering, null, null, cancellationToken));

    /// <summary>
    /// The validation protocol on fixed image sets: per-image DSL, DL-on-heads and output-norm scores and ablation
    /// importance on the evaluation images; head-level ρ of each (and of a random baseline) with permutation p and
    /// two-way bootstrap CI; paired Δρ DSL − DL; cumulative-ablation trajectories (DSL order from calibration scores vs
    /// random orders and a calibration-fitted greedy order). Heads that write (almost) nothing are left out of the
    /// correlations and listed. Heads whose direct effect the read-out cannot see are ranked last by DSL but kept in
    /// the correlations: leaving them out would hide the lens's blind spot exactly when such a head matters.
    /// </summary>
    /// <param name="encoder">Encoder.</param>
    /// <param name="images">Calibration, evaluation and reference sets.</param>
    /// <param name="steering">DSL steering.</param>
    /// <param name="settings">Protocol settings.</param>
    /// <param name="progress">Progress sink.</param>
    /// <param name="cancellationToken">Cancels between forwards.</param>
    public static ValidationResult Validate(Models.Vit.IHookedVit encoder, StudyImages images, SteeringOptions steering, ValidationSettings? settings = null,
        IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(images);
        return ValidationStudy.Statistics(ValidationStudy.Measure(encoder, images, steering, settings, null, progress, cancellationToken));
    }

    /// <summary>
    /// Overlay removal on fixed image sets: the overlay direction and DSL's top-k heads are chosen on the calibration
    /// images; presence along the direction is measured on the evaluation images and compared with every (or many
    /// random) k-head subsets. When the context decodes, the first evaluation image's output is decoded before and
    /// after ablating the chosen heads.
    /// </summary>
    /// <param name="context">Encoder, decoding, progress (its input is not used).</param>
    /// <param name="images">Calibration and evaluation sets (the overlay is composed into both).</param>
    /// <param name="steering">DSL steering.</param>
    /// <param name="topK">Heads ablated.</param>
    /// <param name="seed">Seed of the random subsets (when there are too many to enumerate).</param>
    /// <param name="maxImages">Evaluation images used (the first ones): each subset costs two forwards per image.</param>
    /// <param name="maxSubsets">Exact enumeration up to this many subsets, else this many random ones.</param>
    /// <param name="cancellationToken">Cancels between forwards.</param>
    /// <param name="planted">Heads known by construction to carry the overlay (a planted testbed), or null; see
    /// <see cref="OverlayStudyResult.Planted"/>.</param>
    public static OverlayOutcome Overlay(StudyContext context, StudyImages images, SteeringOptions steering, int topK, int seed = 0,
        int maxImages = 16, int maxSubsets = OverlayStudy.DefaultMaxSubsets, CancellationToken cancellationToken = default,
        IReadOnlyList<HeadTarget>? planted = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(images);
        var vit = context.Encoder;
        var arch = vit.Architecture;
        context.Progress?.Report(new LensProgress("overlay study", 0, 1));
        using var scope = torch.NewDisposeScope();
        using var calibration = images.OverlayPair(images.Calibration);
        using var all = images.OverlayPair(images.Evaluation);
        long count = Math.Min(all.Base.shape[0], Math.Max(1, maxImages));
        using var evaluation = new OverlayPair(all.Base.narrow(0, 0, count), all.Overlaid.narrow(0, 0, count));
        var result = OverlayStudy.Run(new SteeringLens(vit, steering), calibration, evaluation, topK, maxSubsets, seed, cancellationToken, planted);
        context.Progress?.Report(new LensProgress("overlay study", 1, 1));
        if (context.Pictures is not { } sweep) return new OverlayOutcome(result, Verdicts.Overlay(result), null);
        var keep = KeepMasks.Ablating(new[] { result.TopHeads.Select(h => h.Head.Index(arch.NumHeads)) }, arch); // [1, L, H]
        var first = evaluation.Overlaid.narrow(0, 0, 1);
        var before = vit.Forward(first);                                                                   // [1, P]
        var after = HeadAblation.Run(vit, first, keep, cancellationToken: cancellationToken).select(0, 0); // [1, P]
        var pictures = sweep.Run("overlay", new[] { "before", "after" }, torch.cat(new[] { before, after }, 0), context.Progress, cancellationToken);
        return new OverlayOutcome(result, Verdicts.Overlay(result), pictures.MoveToOuterDisposeScope());
    }
}
