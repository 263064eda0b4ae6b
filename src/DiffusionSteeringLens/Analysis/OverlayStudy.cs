using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Analysis;

/// <summary>
/// Result of the overlay-removal study (embedding space). Presence is the overlay's effect on the output measured along
/// the overlay direction d = mean(e_overlaid − e_base) of the calibration images: presence = ⟨e(overlaid) − e(base), d̂⟩ / ‖d‖,
/// 1 = as present as in the clean model, 0 = gone. Both images go through the same ablated model, so damage to the shape
/// (which moves both) does not count as removal.
/// </summary>
/// <param name="TopHeads">Heads chosen on the calibration images (highest lens overlay score first).</param>
/// <param name="PresenceBefore">Mean presence on the evaluation images, no ablation.</param>
/// <param name="PresenceAfter">Mean presence on the evaluation images with the chosen heads ablated.</param>
/// <param name="RandomPresenceMean">Mean presence over the compared head subsets of the same size.</param>
/// <param name="Percentile">Share of compared subsets that leave more overlay than the chosen heads (1 = best of all).</param>
/// <param name="PValue">One-sided p for "the chosen heads remove more overlay than a random subset".</param>
/// <param name="SubsetsCompared">Subsets compared.</param>
/// <param name="Exhaustive">True when every subset of that size was compared (the percentile is exact).</param>
/// <param name="CleanSimilarityAfter">Mean cos(ablated, clean) output on the evaluation base images: 1 = the ablation spares clean images.</param>
/// <param name="RandomCleanSimilarityAfter">The same, mean over the compared subsets.</param>
/// <param name="CalibrationImages">Images the direction and the heads were chosen on.</param>
/// <param name="EvaluationImages">Disjoint images presence was measured on.</param>
/// <param name="RemovedImages">Evaluation images whose overlay the chosen heads removed: presence after ablation below
/// half of that image's clean presence (threshold fixed before any run).</param>
/// <param name="RandomRemovalRate">The same share, mean over the compared subsets.</param>
/// <param name="CleanShiftAlongDirection">Specificity along the overlay direction: mean ⟨A(base) − e(base), d̂⟩ / ‖d‖ on the
/// evaluation images without the overlay (0 = the ablation neither fakes nor hides the overlay on clean images).</param>
public sealed record OverlayStudyResult(IReadOnlyList<HeadScore> TopHeads, double PresenceBefore, double PresenceAfter, double RandomPresenceMean,
    double Percentile, double PValue, int SubsetsCompared, bool Exhaustive, double CleanSimilarityAfter, double RandomCleanSimilarityAfter,
    int CalibrationImages, int EvaluationImages, int RemovedImages = 0, double RandomRemovalRate = 0, double CleanShiftAlongDirection = 0)
{
    /// <summary>Threshold of <see cref="RemovedImages"/>: an image's overlay counts as removed below this share of its clean presence.</summary>
    public const double RemovalThreshold = 0.5;

    /// <summary>Share of evaluation images whose overlay was removed.</summary>
    public double RemovalRate => EvaluationImages == 0 ? 0 : RemovedImages / (double)EvaluationImages;

    /// <summary>95 % Wilson interval of <see cref="RemovalRate"/>.</summary>
    // A value tuple serialises as {} (System.Text.Json skips fields), so results.json carries the bounds below instead.
    [System.Text.Json.Serialization.JsonIgnore]
    public (double Low, double High) RemovalInterval => WilsonInterval.Compute(RemovedImages, Math.Max(1, EvaluationImages));

    /// <summary>Lower bound of <see cref="RemovalInterval"/> (written to results.json).</summary>
    public double RemovalIntervalLow => RemovalInterval.Low;

    /// <summary>Upper bound of <see cref="RemovalInterval"/> (written to results.json).</summary>
    public double RemovalIntervalHigh => RemovalInterval.High;

    /// <summary>
    /// Other ways of picking k heads, measured on the same evaluation images and against the same random subsets: DL
    /// on heads and the lens-free output-change norm (see <see cref="OverlayStudy"/>). A lens earns credit only by
    /// doing better than these.
    /// </summary>
    public IReadOnlyList<OverlaySelectorResult> Baselines { get; init; } = Array.Empty<OverlaySelectorResult>();

    /// <summary>
    /// Ground truth, when the caller names the heads planted to carry the overlay: the whole planted set ablated, then
    /// each planted head alone, measured like the selectors (Selector = "planted L3H1+L6H10", "planted L3H1", …; each
    /// head's Score/Rank are the lens's). Empty when no heads were named.
    /// </summary>
    public IReadOnlyList<OverlaySelectorResult> Planted { get; init; } = Array.Empty<OverlaySelectorResult>();

    /// <summary>
    /// Where each rule ranked each planted head among all heads (1 = first), keyed by rule: "lens", then the selectors'
    /// names; values in the order the planted heads were named. Empty when no heads were named.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<int>> PlantedRanks { get; init; } = new Dictionary<string, IReadOnlyList<int>>();

    /// <summary>
    /// Heads that write (almost) nothing on the calibration images (mean CLS write below 10⁻³ of the median head's):
    /// every rule ranks them last, since a silent head cannot carry the overlay but its lens score is exactly 0.
    /// </summary>
    public IReadOnlyList<HeadTarget> SilentHeads { get; init; } = Array.Empty<HeadTarget>();
}

/// <summary>The overlay study's outcome for one head-picking rule compared with the lens.</summary>
/// <param name="Selector">Name of the rule.</param>
/// <param name="Heads">The k heads it picked on the calibration images (best first).</param>
/// <param name="PresenceAfter">Mean presence on the evaluation images with those heads ablated.</param>
/// <param name="Percentile">Share of the compared random subsets that leave more overlay.</param>
/// <param name="PValue">One-sided p against the random subsets, computed as for the lens.</param>
/// <param name="RemovedImages">Evaluation images whose overlay it removed (same threshold as the lens).</param>
/// <param name="CleanShiftAlongDirection">Its shift along the overlay direction on clean evaluation images.</param>
public sealed record OverlaySelectorResult(string Selector, IReadOnlyList<HeadScore> Heads, double PresenceAfter, double Percentile,
    double PValue, int RemovedImages, double CleanShiftAlongDirection);

/// <summary>
/// Base images and the same images with the overlay composed in, preprocessed: [B, C, S, S] each. The pair owns both
/// tensors it is given — hand it fresh tensors or views (a view's handle is the pair's; its storage stays alive as long
/// as the base tensor's owner keeps it) — and disposing the pair disposes them. <see cref="OverlayStudy"/> borrows pairs.
/// </summary>
/// <param name="Base">Clean images.</param>
/// <param name="Overlaid">The same images with the overlay.</param>
public sealed record OverlayPair(torch.Tensor Base, torch.Tensor Overlaid) : IDisposable
{
    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        Base.Dispose();
        Overlaid.Dispose();
    }
}

/// <summary>
/// Overlay removal: on calibration images, find the overlay direction and rank heads by how much the lens read-out of
/// each head moves along it because of the overlay; ablate the top k on disjoint evaluation images and compare the
/// overlay presence left with that left by every (or many random) k-head subsets. Two other selectors are measured the
/// same way beside the lens: DL on heads (the same overlay score through the Diffusion Lens read-out) and the
/// lens-free output-change norm ‖o_h(overlaid) − o_h(base)‖ of each head's CLS write, averaged over the calibration
/// images — the simplest rule a researcher could use without any lens.
/// </summary>
public static class OverlayStudy
{
    /// <summary>Largest number of subsets enumerated exactly; beyond it that many random subsets are drawn.</summary>
    public const int DefaultMaxSubsets = 2000;

    /// <summary>Composites <paramref name="overlay"/> [3, H, W] onto pictures [B, 3, H, W] where <paramref name="mask"/> [H, W] is 1.</summary>
    public static torch.Tensor Compose(torch.Tensor pictures, torch.Tensor overlay, torch.Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        var m = mask.to(pictures.dtype).to(pictures.device).unsqueeze(0).unsqueeze(0);
        var o = overlay.to(pictures.dtype).to(pictures.device).unsqueeze(0);
        return (pictures * (1 - m) + o * m).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per-head overlay score [L·H] on calibration images: mean over images of
    /// ⟨(r_h(overlaid) − e(overlaid)) − (r_h(base) − e(base)), d̂⟩, the extra push along the overlay direction that the
    /// head's read-out gives because the overlay is present. A silent head's read-out equals the clean output and scores 0.
    /// </summary>
    public static double[] HeadScores(ILens lens, OverlayPair calibration, torch.Tensor direction, CancellationToken cancellationToken = default)
    {
        var vit = lens.Encoder;
        var heads = LensTarget.AllHeads(vit.Architecture);
        using var scope = torch.NewDisposeScope();
        var unit = direction / direction.norm();
        torch.Tensor Push(torch.Tensor pixels)
        {
            var r = lens.ComputeEmbeddings(pixels, heads, null, cancellationToken);      // [B, N, P]
            var e = vit.Forward(pixels).unsqueeze(1);                                    // [B, 1, P]
            return ((r - e) * unit).sum(-1);                                              // [B, N]
        }
        var score = (Push(calibration.Overlaid) - Push(calibration.Base)).mean(new long[] { 0 }).to(torch.float64).cpu();
        return score.data<double>().ToArray();
    }

    /// <summary>Overlay direction d = mean(e(overlaid) − e(base)) [P].</summary>
    public static torch.Tensor Direction(IHookedVit vit, OverlayPair images)
    {
        using var scope = torch.NewDisposeScope();
        return (vit.Forward(images.Overlaid) - vit.Forward(images.Base)).mean(new long[] { 0 }).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Evaluation images measured per forward batch. <see cref="Run"/> and every shard of a sharded study measure whole
    /// blocks, so each image is always computed in the same batch (float results can depend on the batch a row is in) and
    /// merged shards reproduce an unsharded run bit for bit.
    /// </summary>
    internal const int BlockSize = 4;

    /// <summary>Runs the study.</summary>
    /// <param name="lens">The lens that picks the heads (DSL, or DL-on-heads for comparison).</param>
    /// <param name="calibration">Images the direction and the heads are chosen on.</param>
    /// <param name="evaluation">Disjoint images presence is measured on.</param>
    /// <param name="topK">Heads to ablate.</param>
    /// <param name="maxSubsets">Exact enumeration up to this many k-subsets; otherwise this many random ones.</param>
    /// <param name="seed">Seed of the random subsets.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <param name="planted">Heads known by construction to carry the overlay (a planted testbed), or null: measured as
    /// extra rows and located in every rule's ranking (<see cref="OverlayStudyResult.Planted"/>).</param>
    /// <exception cref="ArgumentException">A planted head outside the model, or an overlay that does not change the output.</exception>
    public static OverlayStudyResult Run(ILens lens, OverlayPair calibration, OverlayPair evaluation, int topK,
        int maxSubsets = DefaultMaxSubsets, int seed = 0, CancellationToken cancellationToken = default, IReadOnlyList<HeadTarget>? planted = null)
    {
        ArgumentNullException.ThrowIfNull(lens);
        ArgumentNullException.ThrowIfNull(evaluation);
        CheckPlanted(lens.Encoder.Architecture.NumLayers, lens.Encoder.Architecture.NumHeads, planted); // before the forwards, not after
        using var scope = torch.NewDisposeScope();
        var chosen = Calibrate(lens, calibration, cancellationToken);
        var rows = Rows(lens.Encoder.Architecture, chosen, topK, maxSubsets, seed, planted);
        var measured = new List<OverlayImageValues>();
        long images = evaluation.Base.shape[0];
        for (long start = 0; start < images; start += BlockSize)
        {
            long size = Math.Min(BlockSize, images - start);
            using var block = new OverlayPair(evaluation.Base.narrow(0, start, size), evaluation.Overlaid.narrow(0, start, size));
            measured.AddRange(Measure(lens.Encoder, block, chosen.Direction, rows.Sets, cancellationToken));
        }
        return Statistics(rows, chosen.Images, measured);
    }

    /// <summary>
    /// What the calibration images fix: the overlay direction d [P] (in the caller's dispose scope), each rule's raw
    /// per-head overlay score [L·H] (the lens's, DL-on-heads', the output-change norm) and the silent heads.
    /// </summary>
    internal sealed record Calibration(torch.Tensor Direction, double[] LensScores, double[] DlScores, double[] ChangeNorms, int[] Silent, int Images);

    /// <summary>The overlay direction, every rule's head scores and the silent heads, from the calibration images.</summary>
    /// <exception cref="ArgumentException">The overlay does not change the output (d = 0).</exception>
    internal static Calibration Calibrate(ILens lens, OverlayPair calibration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lens);
        ArgumentNullException.ThrowIfNull(calibration);
        var vit = lens.Encoder;
        var direction = Direction(vit, calibration);
        if (direction.norm().item<float>() < 1e-8f)
            throw new ArgumentException("the overlay does not change the output embedding of the calibration images (d = 0); nothing to remove.", nameof(calibration));
        // A head that writes (almost) nothing cannot carry the overlay, yet its lens score is exactly 0 (its read-out is
        // the clean output) and outranks every head whose score is slightly negative: on the planted testbed DSL put the
        // dead head second for the dots mark. Every rule ranks silent heads last (the validation study's rule, in Rows).
        var (silent, changeNorms) = CalibrationWrites(vit, calibration, cancellationToken);
        return new Calibration(direction, HeadScores(lens, calibration, direction, cancellationToken),
            HeadScores(new DiffusionLens(vit), calibration, direction, cancellationToken), changeNorms, silent.ToArray(), (int)calibration.Base.shape[0]);
    }

    /// <summary>
    /// The head sets the study ablates, in row order — row 0: nothing ablated; row 1: the lens's k heads; then one row per
    /// selector; then, when heads were planted, the planted set and each planted head alone; then the compared random (or
    /// every) k-subsets — with the rankings they came from. A function of the calibration scores and the settings only.
    /// </summary>
    internal sealed record RowSets(int NumHeads, int TopK, IReadOnlyList<HeadScore> Lens,
        IReadOnlyList<(string Name, IReadOnlyList<HeadScore> Ranked)> Selectors, IReadOnlyList<HeadTarget> Planted,
        IReadOnlyList<HeadTarget[]> PlantedRows, IReadOnlyList<HeadTarget> Silent, IReadOnlyList<int[]> Sets, int FirstPlanted, int FirstRandom, bool Exhaustive);

    /// <summary>Ranks every rule's scores (silent heads last) and lays out the head sets to ablate.</summary>
    /// <exception cref="ArgumentException">A planted head outside the model.</exception>
    internal static RowSets Rows(VitArchitecture arch, Calibration calibration, int topK, int maxSubsets, int seed, IReadOnlyList<HeadTarget>? planted) =>
        Rows(arch.NumLayers, arch.NumHeads, calibration.LensScores, calibration.DlScores, calibration.ChangeNorms, calibration.Silent, topK, maxSubsets, seed, planted);

    /// <inheritdoc cref="Rows(VitArchitecture, Calibration, int, int, int, IReadOnlyList{HeadTarget})"/>
    internal static RowSets Rows(int numLayers, int numHeads, IReadOnlyList<double> lensScores, IReadOnlyList<double> dlScores, IReadOnlyList<double> changeNorms,
        IReadOnlyList<int> silent, int topK, int maxSubsets, int seed, IReadOnlyList<HeadTarget>? planted)
    {
        int n = numLayers * numHeads;
        topK = Math.Clamp(topK, 1, n - 1);
        planted ??= Array.Empty<HeadTarget>();
        CheckPlanted(numLayers, numHeads, planted);
        IReadOnlyList<HeadScore> Ranked(IReadOnlyList<double> scores)
        {
            var demoted = scores.ToArray();
            foreach (var h in silent) demoted[h] = double.NegativeInfinity;
            return HeadScore.RankAll(demoted, numHeads);
        }
        var lens = Ranked(lensScores);
        var selectors = new (string Name, IReadOnlyList<HeadScore> Ranked)[] { ("DL-on-heads", Ranked(dlScores)), ("output-change norm", Ranked(changeNorms)) };
        int[] Chosen(IEnumerable<HeadScore> r) => r.Take(topK).Select(h => h.Head.Index(numHeads)).OrderBy(i => i).ToArray();
        var (subsets, exhaustive) = Subsets(n, topK, maxSubsets, seed);
        var sets = new List<int[]> { Array.Empty<int>(), Chosen(lens) };
        sets.AddRange(selectors.Select(s => Chosen(s.Ranked)));
        int firstPlanted = sets.Count;
        var plantedRows = planted.Count == 0 ? new List<HeadTarget[]>()
            : new List<HeadTarget[]> { planted.ToArray() }.Concat(planted.Count > 1 ? planted.Select(h => new[] { h }) : Enumerable.Empty<HeadTarget[]>()).ToList();
        sets.AddRange(plantedRows.Select(r => r.Select(h => h.Index(numHeads)).Distinct().OrderBy(i => i).ToArray()));
        int firstRandom = sets.Count;
        sets.AddRange(subsets);
        return new RowSets(numHeads, topK, lens, selectors, planted, plantedRows, silent.Select(h => HeadTarget.FromIndex(h, numHeads)).ToArray(),
            sets, firstPlanted, firstRandom, exhaustive);
    }

    /// <summary>Refuses a planted head outside the model.</summary>
    /// <exception cref="ArgumentException">A planted head outside the model, named.</exception>
    internal static void CheckPlanted(int numLayers, int numHeads, IReadOnlyList<HeadTarget>? planted)
    {
        foreach (var h in planted ?? Array.Empty<HeadTarget>())
            if (h.Layer < 0 || h.Layer >= numLayers || h.Head < 0 || h.Head >= numHeads)
                throw new ArgumentException($"planted head {h.Label} is outside the model ({numLayers} layers × {numHeads} heads).", "planted");
    }

    /// <summary>One evaluation image's measurements, one value per head set (row order of <see cref="RowSets.Sets"/>).</summary>
    /// <param name="Presence">Presence along d̂ relative to ‖d‖ with the set ablated.</param>
    /// <param name="CleanSimilarity">cos(ablated, clean) output of the image without the overlay.</param>
    /// <param name="CleanShift">⟨A(base) − e(base), d̂⟩ / ‖d‖ of the image without the overlay.</param>
    internal sealed record OverlayImageValues(double[] Presence, double[] CleanSimilarity, double[] CleanShift);

    /// <summary>
    /// Each image's presence, clean-image similarity and clean shift for every head set (one batch: callers pass whole
    /// blocks of <see cref="BlockSize"/> images); sets[0] must be the empty set (the clean model).
    /// </summary>
    internal static OverlayImageValues[] Measure(IHookedVit vit, OverlayPair images, torch.Tensor direction, IReadOnlyList<int[]> sets, CancellationToken ct)
    {
        var arch = vit.Architecture;
        long b = images.Base.shape[0];
        var presence = new double[b][];
        var clean = new double[b][];
        var shift = new double[b][];
        for (int i = 0; i < b; i++) (presence[i], clean[i], shift[i]) = (new double[sets.Count], new double[sets.Count], new double[sets.Count]);
        using var scope = torch.NewDisposeScope();
        var norm = direction.norm();
        var unit = direction / norm;
        var both = torch.cat(new[] { images.Base, images.Overlaid }, 0);
        var cleanBase = vit.Forward(images.Base);
        const int setsPerCall = 256;
        for (int start = 0; start < sets.Count; start += setsPerCall)
        {
            using var inner = torch.NewDisposeScope();
            int count = Math.Min(setsPerCall, sets.Count - start);
            var masks = KeepMasks.Ablating(sets.Skip(start).Take(count), arch);     // [count, L, H]
            var outputs = HeadAblation.Run(vit, both, masks, cancellationToken: ct);  // [R, 2B, P]
            var baseOut = outputs.narrow(1, 0, b);
            var overOut = outputs.narrow(1, b, b);
            var p = (((overOut - baseOut) * unit).sum(-1) / norm).to(torch.float64).cpu();                          // [R, B]
            var c = EmbeddingSimilarity.Cosine(baseOut, cleanBase.unsqueeze(0)).to(torch.float64).cpu();            // [R, B]
            var sh = (((baseOut - cleanBase.unsqueeze(0)) * unit).sum(-1) / norm).to(torch.float64).cpu();          // [R, B]
            var (pv, cv, sv) = (p.data<double>().ToArray(), c.data<double>().ToArray(), sh.data<double>().ToArray());
            for (int s = 0; s < count; s++)
                for (int i = 0; i < b; i++)
                    (presence[i][start + s], clean[i][start + s], shift[i][start + s]) = (pv[s * b + i], cv[s * b + i], sv[s * b + i]);
        }
        return Enumerable.Range(0, (int)b).Select(i => new OverlayImageValues(presence[i], clean[i], shift[i])).ToArray();
    }

    /// <summary>
    /// Every statistic of the study from the per-image values of all evaluation images (in image order): mean presence per
    /// head set, removal counts (presence below <see cref="OverlayStudyResult.RemovalThreshold"/> of the image's own clean
    /// presence), percentiles and p against the compared subsets.
    /// </summary>
    internal static OverlayStudyResult Statistics(RowSets rows, int calibrationImages, IReadOnlyList<OverlayImageValues> images)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("the overlay study needs at least one evaluation image.", nameof(images));
        int sets = rows.Sets.Count, b = images.Count;
        foreach (var image in images)
            if (image.Presence.Length != sets || image.CleanSimilarity.Length != sets || image.CleanShift.Length != sets)
                throw new ArgumentException($"every evaluation image needs one value per head set ({sets}); got {image.Presence.Length}.", nameof(images));
        double[] Mean(Func<OverlayImageValues, double[]> pick)
        {
            var mean = new double[sets];
            for (int s = 0; s < sets; s++)
            {
                double sum = 0;
                for (int i = 0; i < b; i++) sum += pick(images[i])[s];
                mean[s] = sum / b;
            }
            return mean;
        }
        var presence = Mean(v => v.Presence);
        var clean = Mean(v => v.CleanSimilarity);
        var shift = Mean(v => v.CleanShift);
        var removed = new int[sets];
        for (int s = 0; s < sets; s++)
            for (int i = 0; i < b; i++)
                if (images[i].Presence[s] < OverlayStudyResult.RemovalThreshold * images[i].Presence[0]) removed[s]++;

        var randomPresence = presence.Skip(rows.FirstRandom).ToArray();
        double Percentile(double p) => randomPresence.Count(r => r > p + 1e-12) / (double)randomPresence.Length;
        double PValue(double p)
        {
            int atMost = randomPresence.Count(r => r <= p + 1e-12);
            return rows.Exhaustive ? atMost / (double)randomPresence.Length : (1.0 + atMost) / (1.0 + randomPresence.Length);
        }
        int numHeads = rows.NumHeads, topK = rows.TopK;
        double chosen = presence[1];
        var baselines = rows.Selectors.Select((s, i) => new OverlaySelectorResult(s.Name, s.Ranked.Take(topK).ToArray(), presence[2 + i],
            Percentile(presence[2 + i]), PValue(presence[2 + i]), removed[2 + i], shift[2 + i])).ToArray();
        var lensRank = rows.Lens.ToDictionary(h => h.Head.Index(numHeads));
        int fp = rows.FirstPlanted;
        var plantedResults = rows.PlantedRows.Select((r, i) => new OverlaySelectorResult("planted " + string.Join("+", r.Select(h => h.Label)),
            r.Select(h => lensRank[h.Index(numHeads)]).ToArray(), presence[fp + i], Percentile(presence[fp + i]),
            PValue(presence[fp + i]), removed[fp + i], shift[fp + i])).ToArray();
        IReadOnlyList<int> RanksOf(IReadOnlyList<HeadScore> r)
        {
            var rank = r.ToDictionary(h => h.Head.Index(numHeads), h => h.Rank);
            return rows.Planted.Select(h => rank[h.Index(numHeads)]).ToArray();
        }
        var plantedRanks = rows.Planted.Count == 0 ? new Dictionary<string, IReadOnlyList<int>>()
            : new[] { ("lens", rows.Lens) }.Concat(rows.Selectors.Select(s => (s.Name, s.Ranked))).ToDictionary(x => x.Item1, x => RanksOf(x.Item2));
        return new OverlayStudyResult(rows.Lens.Take(topK).ToArray(), presence[0], chosen, randomPresence.Average(),
            Percentile(chosen), PValue(chosen), randomPresence.Length, rows.Exhaustive,
            clean[1], clean.Skip(rows.FirstRandom).Average(), calibrationImages, b,
            removed[1], removed.Skip(rows.FirstRandom).Average() / b, shift[1])
        { Baselines = baselines, Planted = plantedResults, PlantedRanks = plantedRanks, SilentHeads = rows.Silent };
    }

    /// <summary>
    /// From one cached forward of each calibration half: the silent heads (mean CLS write over the images with and
    /// without the overlay below 10⁻³ of the median head's) and the lens-free selector's score, per head the mean over
    /// calibration images of ‖o_h(overlaid) − o_h(base)‖, the change the overlay makes to the head's CLS write [L·H].
    /// </summary>
    private static (IReadOnlyList<int> Silent, double[] ChangeNorms) CalibrationWrites(IHookedVit vit, OverlayPair calibration,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var scope = torch.NewDisposeScope();
        var writesBase = HeadOutputNorm.ClsWrites(vit, calibration.Base);        // [B, L·H, D]
        var writesOver = HeadOutputNorm.ClsWrites(vit, calibration.Overlaid);
        var silent = HeadOutputNorm.SilentHeads(HeadOutputNorm.Rows(torch.cat(new[] { writesBase, writesOver }, 0).norm(-1)));
        var change = (writesOver - writesBase).norm(-1).mean(new long[] { 0 });
        return (silent, change.to(torch.float64).cpu().data<double>().ToArray());
    }

    /// <summary>Every k-subset of n heads when there are at most <paramref name="max"/>, else that many random ones (seeded).</summary>
    internal static (List<int[]> Subsets, bool Exhaustive) Subsets(int n, int k, int max, int seed)
    {
        double count = 1;
        for (int i = 0; i < k; i++) count = count * (n - i) / (i + 1);
        var list = new List<int[]>();
        if (count <= max)
        {
            var c = Enumerable.Range(0, k).ToArray();
            while (true)
            {
                list.Add((int[])c.Clone());
                int i = k - 1;
                while (i >= 0 && c[i] == n - k + i) i--;
                if (i < 0) break;
                c[i]++;
                for (int j = i + 1; j < k; j++) c[j] = c[j - 1] + 1;
            }
            return (list, true);
        }
        var rng = new Random(seed);
        var all = Enumerable.Range(0, n).ToArray();
        for (int s = 0; s < max; s++)
        {
            rng.Shuffle(all);
            list.Add(all.Take(k).OrderBy(i => i).ToArray());
        }
        return (list, false);
    }
}
