using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// The experiment steps behind the <c>dsl</c> commands, as plain library calls returning result records: lens read-outs
/// (layer sweep, steered targets), head ranking, importance validation and the overlay-removal study.
/// </summary>
public static class LensStudy
{
    /// <summary>DL layer sweep: every <c>resid_post</c> read out (and decoded when the context decodes).</summary>
    public static ReadoutSweep LayerSweep(StudyContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Readouts(context, new DiffusionLens(context.Encoder), LensTarget.LayerSweep(context.Encoder.Architecture), "dl-layers", cancellationToken);
    }

    /// <summary>
    /// Applies a lens to targets: embedding-space similarity to the clean embedding (mean over the batch) and, when the
    /// context decodes, the pictures of the batch's first image and their similarity to its input picture.
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
        var vit = context.Encoder;
        context.Progress?.Report(new StudyProgress($"{lens.Name} {sweepName}", 0, 1));
        using var scope = torch.NewDisposeScope();
        var e = lens.ComputeEmbeddings(context.Input.Pixels, targets, null, cancellationToken);      // [B, N, P]
        var clean = vit.Forward(context.Input.Pixels).unsqueeze(1);                                  // [B, 1, P]
        var embSim = EmbeddingSimilarity.Cosine(e, clean).mean(new long[] { 0 }).cpu().data<double>().ToArray();
        context.Progress?.Report(new StudyProgress($"{lens.Name} {sweepName}", 1, 1));
        double[]? imgSim = null;
        torch.Tensor? pictures = null;
        if (context.Pictures is { } sweep)
        {
            var labels = targets.Select(t => t.Label).ToArray();
            pictures = sweep.Run(sweepName, labels, e.select(0, 0), context.Progress, cancellationToken);
            imgSim = context.ImageSimilarity!.Similarity(pictures, context.Input.Pictures.narrow(0, 0, 1));
        }
        var records = targets.Select((t, i) => new TargetReadout(lens.Name, t.Label, t.Layer, embSim[i], imgSim?[i])).ToArray();
        return new ReadoutSweep(records, pictures?.MoveToOuterDisposeScope());
    }

    /// <summary>Scores and ranks every head with DSL (given steering) and with DL-on-heads.</summary>
    public static HeadRanking RankHeads(StudyContext context, SteeringOptions steering, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var arch = context.Encoder.Architecture;
        var heads = LensTarget.AllHeads(arch);
        var dsl = Readouts(context, new SteeringLens(context.Encoder, steering), heads, "dsl-heads", cancellationToken);
        try
        {
            using var dl = Readouts(context, new DiffusionLens(context.Encoder), heads, "dl-heads", cancellationToken);
            var dslPrimary = dsl.Readouts.Select(r => r.ImageSimilarity ?? r.EmbeddingSimilarity).ToArray();
            var dlPrimary = dl.Readouts.Select(r => r.ImageSimilarity ?? r.EmbeddingSimilarity).ToArray();
            var dslRank = Ranks(dslPrimary);
            var dlRank = Ranks(dlPrimary);
            var rows = heads.Select((h, i) => new HeadScoreRow(h.Label, h.Layer, h.Head,
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
    /// Ablation importance of every head, its Spearman correlation with the DSL and DL-on-heads scores (permutation p),
    /// and cumulative-ablation trajectories (DSL order, greedy, random seeds). Returns the rows with importance filled in.
    /// </summary>
    /// <param name="context">Encoder and input.</param>
    /// <param name="rows">Head rows from <see cref="RankHeads"/>.</param>
    /// <param name="trajectorySteps">Heads ablated along each trajectory.</param>
    /// <param name="randomSeeds">Seeds of the random-order trajectories.</param>
    /// <param name="permutations">Permutations of the p-value.</param>
    /// <param name="kind">Zero or mean ablation.</param>
    /// <param name="cancellationToken">Cancels between forwards.</param>
    public static (ValidationResult Validation, IReadOnlyList<HeadScoreRow> Rows) Validate(StudyContext context, IReadOnlyList<HeadScoreRow> rows,
        int trajectorySteps, IReadOnlyList<int> randomSeeds, int permutations = 1000, AblationKind kind = AblationKind.Zero,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(rows);
        var vit = context.Encoder;
        var pixels = context.Input.Pixels;
        context.Progress?.Report(new StudyProgress("ablation importance", 0, 1));
        var importance = AblationImportance.Compute(vit, pixels, kind, cancellationToken: cancellationToken);   // [B][N]
        context.Progress?.Report(new StudyProgress("ablation importance", 1, 1));
        bool image = rows.All(r => r.DslImageScore.HasValue && r.DlImageScore.HasValue);
        // Image scores exist for the first image only; embedding scores are batch means — correlate like with like.
        IReadOnlyList<IReadOnlyList<double>> imp = image ? new[] { importance[0] } : new[] { MeanColumns(importance) };
        var dslScores = rows.Select(r => r.DslPrimary).ToArray();
        var dlScores = rows.Select(r => r.DlPrimary).ToArray();
        var dslCorr = SpearmanCorrelation.MeanRho(new[] { dslScores }, imp, permutations);
        var dlCorr = SpearmanCorrelation.MeanRho(new[] { dlScores }, imp, permutations);
        context.Progress?.Report(new StudyProgress("ablation trajectories", 0, 1));
        var trajectories = AblationTrajectories.Study(vit, pixels, dslScores, trajectorySteps, randomSeeds, kind, cancellationToken);
        context.Progress?.Report(new StudyProgress("ablation trajectories", 1, 1));
        var meanImp = MeanColumns(importance);
        var filled = rows.Select((r, i) => r with { Importance = meanImp[i] }).ToArray();
        return (new ValidationResult(image ? "image" : "embedding", dslCorr, dlCorr, trajectories), filled);
    }

    /// <summary>
    /// Overlay removal: rank heads by how much their DSL read-out of the overlaid input resembles the overlay, ablate
    /// the top-k, and measure similarity to the overlay and to the clean base before and after (decoding both outputs
    /// when the context decodes).
    /// </summary>
    /// <param name="context">Encoder, decoding; its input is ignored.</param>
    /// <param name="baseInput">The clean base image.</param>
    /// <param name="overlaidInput">The base with the overlay composed in.</param>
    /// <param name="overlayReference">The overlay on its own.</param>
    /// <param name="steering">DSL steering.</param>
    /// <param name="topK">Heads ablated.</param>
    /// <param name="randomSeeds">Seeds of random-k baselines.</param>
    /// <param name="cancellationToken">Cancels between forwards.</param>
    public static OverlayOutcome Overlay(StudyContext context, PreparedInput baseInput, PreparedInput overlaidInput, PreparedInput overlayReference,
        SteeringOptions steering, int topK, IReadOnlyList<int> randomSeeds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var vit = context.Encoder;
        var arch = vit.Architecture;
        context.Progress?.Report(new StudyProgress("overlay study", 0, 1));
        var result = OverlayStudy.Run(new SteeringLens(vit, steering), baseInput.Pixels, overlaidInput.Pixels, overlayReference.Pixels,
            topK, randomSeeds, cancellationToken);
        context.Progress?.Report(new StudyProgress("overlay study", 1, 1));
        if (context.Pictures is not { } sweep) return new OverlayOutcome(result, null);
        using var scope = torch.NewDisposeScope();
        var keep = Enumerable.Repeat(1f, arch.NumLayers * arch.NumHeads).ToArray();
        foreach (var h in result.TopHeads) keep[h.Layer * arch.NumHeads + h.Head] = 0f;
        var first = overlaidInput.Pixels.narrow(0, 0, 1);
        var before = vit.Forward(first);                                                                   // [1, P]
        var after = HeadAblation.Run(vit, first, torch.tensor(keep).view(1, arch.NumLayers, arch.NumHeads),
            cancellationToken: cancellationToken).select(0, 0);                                            // [1, P]
        var pictures = sweep.Run("overlay", new[] { "before", "after" }, torch.cat(new[] { before, after }, 0), context.Progress, cancellationToken);
        return new OverlayOutcome(result, pictures.MoveToOuterDisposeScope());
    }

    private static int[] Ranks(IReadOnlyList<double> scores)
    {
        var ranks = new int[scores.Count];
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
        for (int r = 0; r < order.Length; r++) ranks[order[r]] = r + 1;
        return ranks;
    }

    private static double[] MeanColumns(double[][] perImage) =>
        Enumerable.Range(0, perImage[0].Length).Select(i => perImage.Average(row => row[i])).ToArray();
}
