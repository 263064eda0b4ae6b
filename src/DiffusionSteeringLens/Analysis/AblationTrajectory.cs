using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Analysis;

/// <summary>Similarity of the output to the clean output as heads are ablated cumulatively in some order.</summary>
/// <param name="Order">Name of the order (<c>dsl</c>, <c>greedy</c>, …).</param>
/// <param name="Heads">The heads, in ablation order.</param>
/// <param name="Similarity">Mean cosine to the clean embedding after 0, 1, …, K ablations (K + 1 values).</param>
public sealed record Trajectory(string Order, IReadOnlyList<HeadTarget> Heads, IReadOnlyList<double> Similarity)
{
    /// <summary>Area under the curve, trapezoid rule, normalised by K (a mean similarity in [−1, 1]; lower = more damage).</summary>
    public double Auc => AreaUnder(Similarity);

    internal static double AreaUnder(IReadOnlyList<double> curve)
    {
        if (curve.Count < 2) return curve.Count == 1 ? curve[0] : double.NaN;
        double area = 0;
        for (int i = 1; i < curve.Count; i++) area += (curve[i - 1] + curve[i]) / 2;
        return area / (curve.Count - 1);
    }
}

/// <summary>
/// Cumulative-ablation trajectories scored on evaluation images: the DSL order, the greedy order (fitted on separate
/// calibration images, so it is not scored on the images it was chosen on) and many random orders.
/// </summary>
/// <param name="Dsl">Ablating in descending DSL score, on the evaluation images.</param>
/// <param name="Greedy">The greedy order fitted on the calibration images, scored on the evaluation images.</param>
/// <param name="RandomAucs">AUC of every random order on the evaluation images.</param>
/// <param name="RandomMeanSimilarity">Mean random-order curve (K + 1 values).</param>
/// <param name="DslPercentile">Share of random orders whose AUC is higher (less damage) than DSL's: 1 = DSL beats all.</param>
/// <param name="PValue">(1 + #{random AUC ≤ DSL AUC}) / (1 + random orders): one-sided p for "DSL damages faster than random".</param>
/// <param name="NormalizedAuc">(AUC_random − AUC_DSL) / (AUC_random − AUC_greedy): 1 = as good as greedy, 0 = random.</param>
/// <param name="CalibrationImages">Images the greedy order was fitted on.</param>
/// <param name="EvaluationImages">Images every order was scored on.</param>
public sealed record TrajectoryStudy(Trajectory Dsl, Trajectory Greedy, IReadOnlyList<double> RandomAucs, IReadOnlyList<double> RandomMeanSimilarity,
    double DslPercentile, double PValue, double NormalizedAuc, int CalibrationImages, int EvaluationImages);

/// <summary>Cumulative head-ablation trajectories (all patterns of one order run as one batched ablation).</summary>
public static class AblationTrajectories
{
    /// <summary>Default number of random orders the DSL order is compared with.</summary>
    public const int DefaultRandomOrders = 1000;

    /// <summary>The trajectory of one order, for up to <paramref name="steps"/> ablations.</summary>
    /// <param name="vit">Encoder.</param>
    /// <param name="pixels">Images the similarity is averaged over.</param>
    /// <param name="name">Name of the order.</param>
    /// <param name="order">The heads in ablation order.</param>
    /// <param name="steps">Ablations.</param>
    /// <param name="meanZ">Replacement z for mean ablation (<see cref="HeadAblation.MeanZ"/> of a reference set); null = zero ablation.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public static Trajectory ForOrder(IHookedVit vit, torch.Tensor pixels, string name, IReadOnlyList<HeadTarget> order, int steps,
        torch.Tensor? meanZ = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vit);
        ArgumentNullException.ThrowIfNull(order);
        foreach (var h in order) h.Validate(vit.Architecture);
        return ForOrder(vit, pixels, name, order.Select(h => h.Index(vit.Architecture.NumHeads)).ToArray(), steps, meanZ, cancellationToken);
    }

    private static Trajectory ForOrder(IHookedVit vit, torch.Tensor pixels, string name, int[] order, int steps,
        torch.Tensor? meanZ, CancellationToken cancellationToken)
    {
        var arch = vit.Architecture;
        int n = arch.NumLayers * arch.NumHeads;
        steps = Math.Min(steps, order.Length);
        using var scope = torch.NewDisposeScope();
        var maskTensor = KeepMasks.ToTensor(PrefixMasks(order, steps, n), arch);          // [steps + 1, L, H]
        var clean = vit.Forward(pixels);
        var sims = MeanSimilarity(vit, pixels, clean, maskTensor, meanZ, cancellationToken);
        return new Trajectory(name, order.Take(steps).Select(i => HeadTarget.FromIndex(i, arch.NumHeads)).ToArray(), sims);
    }

    /// <summary>Greedy order: at each step every remaining head is tried (one batched run) and the most damaging is kept.</summary>
    public static Trajectory Greedy(IHookedVit vit, torch.Tensor pixels, int steps, torch.Tensor? meanZ = null, CancellationToken cancellationToken = default)
    {
        var arch = vit.Architecture;
        int n = arch.NumLayers * arch.NumHeads;
        steps = Math.Min(steps, n);
        var removed = new List<int>();
        var curve = new List<double>();
        using var scope = torch.NewDisposeScope();
        var clean = vit.Forward(pixels); // once: every step compares against the same clean output
        using (var none = KeepMasks.Ablating(new[] { Array.Empty<int>() }, arch))
            curve.Add(MeanSimilarity(vit, pixels, clean, none, meanZ, cancellationToken)[0]);
        for (int s = 0; s < steps; s++)
        {
            var candidates = Enumerable.Range(0, n).Except(removed).ToArray();
            using var inner = torch.NewDisposeScope();
            var masks = KeepMasks.Ablating(candidates.Select(c => removed.Append(c)), arch);   // [candidates, L, H]
            var sims = MeanSimilarity(vit, pixels, clean, masks, meanZ, cancellationToken);
            int best = Enumerable.Range(0, candidates.Length).OrderBy(i => sims[i]).ThenBy(i => candidates[i]).First();
            removed.Add(candidates[best]);
            curve.Add(sims[best]);
        }
        return new Trajectory("greedy", removed.Select(i => HeadTarget.FromIndex(i, arch.NumHeads)).ToArray(), curve);
    }

    /// <summary>DSL order, calibration-fitted greedy order and random orders, all scored on the evaluation images.</summary>
    /// <param name="vit">Encoder.</param>
    /// <param name="calibrationPixels">Images the greedy order is fitted on [Bc, C, S, S].</param>
    /// <param name="evaluationPixels">Images every order is scored on [Be, C, S, S] (disjoint from calibration).</param>
    /// <param name="dslScores">Layer-major DSL scores (higher = ablated earlier), fixed before this call.</param>
    /// <param name="steps">Ablations per trajectory.</param>
    /// <param name="randomOrders">Random orders (≥ 1,000 for the protocol).</param>
    /// <param name="seed">Seed of the random orders.</param>
    /// <param name="kind">Zero or mean ablation.</param>
    /// <param name="referencePixels">Reference set for mean ablation (required then).</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public static TrajectoryStudy Study(IHookedVit vit, torch.Tensor calibrationPixels, torch.Tensor evaluationPixels, IReadOnlyList<double> dslScores,
        int steps, int randomOrders = DefaultRandomOrders, int seed = 0, AblationKind kind = AblationKind.Zero, torch.Tensor? referencePixels = null,
        CancellationToken cancellationToken = default)
    {
        var arch = vit.Architecture;
        int n = arch.NumLayers * arch.NumHeads;
        if (dslScores.Count != n) throw new ArgumentException($"need {n} DSL scores (one per head); got {dslScores.Count}.", nameof(dslScores));
        if (randomOrders < 1) throw new ArgumentOutOfRangeException(nameof(randomOrders), "need at least one random order.");
        steps = Math.Clamp(steps, 1, n);
        using var scope = torch.NewDisposeScope();
        var meanZ = kind == AblationKind.Mean ? HeadAblation.MeanZ(vit, AblationImportance.RequireReference(referencePixels)) : null;
        var dslOrder = dslScores.Select((s, i) => (s, i)).OrderByDescending(x => x.s).ThenBy(x => x.i).Select(x => x.i).ToArray();
        var dsl = ForOrder(vit, evaluationPixels, "dsl", dslOrder, steps, meanZ, cancellationToken);
        var fitted = Greedy(vit, calibrationPixels, steps, meanZ, cancellationToken);
        var greedy = ForOrder(vit, evaluationPixels, "greedy", fitted.Heads, steps, meanZ, cancellationToken);
        var curves = RandomCurves(vit, evaluationPixels, n, steps, randomOrders, seed, meanZ, cancellationToken);
        return Summarise(dsl, greedy, curves, (int)calibrationPixels.shape[0], (int)evaluationPixels.shape[0]);
    }

    /// <summary>The study's statistics from the DSL and greedy trajectories and the random orders' curves (all on the same evaluation images).</summary>
    internal static TrajectoryStudy Summarise(Trajectory dsl, Trajectory greedy, double[][] curves, int calibrationImages, int evaluationImages)
    {
        int steps = dsl.Similarity.Count - 1;
        var aucs = curves.Select(Trajectory.AreaUnder).ToArray();
        var meanCurve = Enumerable.Range(0, steps + 1).Select(k => curves.Average(c => c[k])).ToArray();
        double percentile = aucs.Count(a => a > dsl.Auc) / (double)aucs.Length;
        double p = (1.0 + aucs.Count(a => a <= dsl.Auc)) / (1.0 + aucs.Length);
        double aucRandom = aucs.Average();
        double denom = aucRandom - greedy.Auc;
        double normalized = Math.Abs(denom) < 1e-12 ? double.NaN : (aucRandom - dsl.Auc) / denom;
        return new TrajectoryStudy(dsl, greedy, aucs, meanCurve, percentile, p, normalized, calibrationImages, evaluationImages);
    }

    /// <summary>
    /// Curves of <paramref name="orders"/> random orders. Orders share many prefixes (there are only n single heads and
    /// n(n−1)/2 pairs), so each distinct ablated set is run once.
    /// </summary>
    private static double[][] RandomCurves(IHookedVit vit, torch.Tensor pixels, int n, int steps, int orders, int seed, torch.Tensor? meanZ, CancellationToken ct)
    {
        var (patterns, curveIndex) = RandomOrderPatterns(n, steps, orders, seed);
        var arch = vit.Architecture;
        using var scope = torch.NewDisposeScope();
        var clean = vit.Forward(pixels);
        var masks = KeepMasks.ToTensor(patterns.SelectMany(m => m).ToArray(), arch);
        var sims = MeanSimilarity(vit, pixels, clean, masks, meanZ, ct);
        return curveIndex.Select(c => c.Select(i => sims[i]).ToArray()).ToArray();
    }

    /// <summary>Keep masks [(K + 1)·n] of the first 0, 1, …, K heads of <paramref name="order"/> ablated.</summary>
    internal static float[] PrefixMasks(IReadOnlyList<int> order, int steps, int n) =>
        KeepMasks.Values(Enumerable.Range(0, steps + 1).Select(k => order.Take(k)), n);

    /// <summary>
    /// The distinct ablated sets of <paramref name="orders"/> seeded random orders (keep masks of n values each) and,
    /// per order, the index of the set after 0, 1, …, K ablations.
    /// </summary>
    internal static (List<float[]> Patterns, int[][] CurveIndex) RandomOrderPatterns(int n, int steps, int orders, int seed)
    {
        var rng = new Random(seed);
        var index = new Dictionary<string, int>();
        var patterns = new List<float[]>();
        var curveIndex = new int[orders][];
        int Pattern(IEnumerable<int> ablated)
        {
            var set = ablated.OrderBy(h => h).ToArray();
            var key = string.Join(',', set);
            if (index.TryGetValue(key, out int at)) return at;
            patterns.Add(KeepMasks.Values(new[] { set }, n));
            return index[key] = patterns.Count - 1;
        }
        for (int o = 0; o < orders; o++)
        {
            var order = Enumerable.Range(0, n).ToArray();
            rng.Shuffle(order);
            curveIndex[o] = Enumerable.Range(0, steps + 1).Select(k => Pattern(order.Take(k))).ToArray();
        }
        return (patterns, curveIndex);
    }

    /// <summary>
    /// Cosine [R][B] of each image's output under each keep mask [R, L, H] to its clean output [B, P], per image (not
    /// averaged), so images measured apart (shards) can be averaged later exactly as if measured together.
    /// </summary>
    internal static double[][] PerImageSimilarity(IHookedVit vit, torch.Tensor pixels, torch.Tensor clean, torch.Tensor masks, torch.Tensor? meanZ, CancellationToken ct)
    {
        var result = new double[masks.shape[0]][];
        const int patternsPerCall = 512; // bounds the [R, B, P] output held at once
        for (long start = 0; start < masks.shape[0]; start += patternsPerCall)
        {
            using var scope = torch.NewDisposeScope();
            long count = Math.Min(patternsPerCall, masks.shape[0] - start);
            var outputs = HeadAblation.Run(vit, pixels, masks.narrow(0, start, count), meanZ, maxRowsPerForward: 1024, cancellationToken: ct); // [R, B, P]
            var cos = EmbeddingSimilarity.Cosine(outputs, clean.unsqueeze(0)).cpu().to(torch.float64);                                         // [R, B]
            for (long r = 0; r < count; r++) result[start + r] = cos[r].data<double>().ToArray();
        }
        return result;
    }

    private static double[] MeanSimilarity(IHookedVit vit, torch.Tensor pixels, torch.Tensor clean, torch.Tensor masks, torch.Tensor? meanZ, CancellationToken ct)
    {
        var result = new double[masks.shape[0]];
        const int patternsPerCall = 512; // bounds the [R, B, P] output held at once
        for (long start = 0; start < masks.shape[0]; start += patternsPerCall)
        {
            using var scope = torch.NewDisposeScope();
            long count = Math.Min(patternsPerCall, masks.shape[0] - start);
            var outputs = HeadAblation.Run(vit, pixels, masks.narrow(0, start, count), meanZ, cancellationToken: ct); // [R, B, P]
            var cos = EmbeddingSimilarity.Cosine(outputs, clean.unsqueeze(0)).mean(new long[] { 1 }).cpu().to(torch.float64); // [R]
            cos.data<double>().ToArray().CopyTo(result, start);
        }
        return result;
    }
}
