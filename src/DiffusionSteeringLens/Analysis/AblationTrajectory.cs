using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Analysis;

/// <summary>Similarity of the output to the clean output as heads are ablated cumulatively in some order.</summary>
/// <param name="Order">Name of the order (<c>dsl</c>, <c>greedy</c>, <c>random:3</c>, …).</param>
/// <param name="Heads">Layer-major indices of the heads, in ablation order.</param>
/// <param name="Similarity">Mean cosine to the clean embedding after 0, 1, …, K ablations (K + 1 values).</param>
public sealed record Trajectory(string Order, IReadOnlyList<int> Heads, IReadOnlyList<double> Similarity)
{
    /// <summary>Area under the curve, trapezoid rule, normalised by K (so it is a mean similarity in [−1, 1]).</summary>
    public double Auc
    {
        get
        {
            if (Similarity.Count < 2) return Similarity.Count == 1 ? Similarity[0] : double.NaN;
            double area = 0;
            for (int i = 1; i < Similarity.Count; i++) area += (Similarity[i - 1] + Similarity[i]) / 2;
            return area / (Similarity.Count - 1);
        }
    }
}

/// <summary>The three kinds of trajectory and the normalised AUC summary.</summary>
/// <param name="Dsl">Ablating in descending DSL score.</param>
/// <param name="Greedy">ACDC-like greedy order: each step removes the head whose removal lowers similarity most.</param>
/// <param name="Random">Random orders (one per seed).</param>
/// <param name="NormalizedAuc">(AUC_random − AUC_DSL) / (AUC_random − AUC_greedy): 1 = as good as greedy, 0 = random.</param>
public sealed record TrajectoryStudy(Trajectory Dsl, Trajectory Greedy, IReadOnlyList<Trajectory> Random, double NormalizedAuc);

/// <summary>Cumulative head-ablation trajectories (all patterns of one order run as one batched ablation).</summary>
public static class AblationTrajectories
{
    /// <summary>The trajectory of one order, for up to <paramref name="steps"/> ablations.</summary>
    public static Trajectory ForOrder(IHookedVit vit, torch.Tensor pixels, string name, IReadOnlyList<int> order, int steps,
        AblationKind kind = AblationKind.Zero, torch.Tensor? meanZ = null, CancellationToken cancellationToken = default)
    {
        var arch = vit.Architecture;
        int n = arch.NumLayers * arch.NumHeads;
        steps = Math.Min(steps, order.Count);
        var masks = new float[(steps + 1) * n];
        Array.Fill(masks, 1f);
        for (int k = 1; k <= steps; k++)
            for (int j = 0; j < k; j++) masks[k * n + order[j]] = 0f;
        using var scope = torch.NewDisposeScope();
        var maskTensor = torch.tensor(masks).view(steps + 1, arch.NumLayers, arch.NumHeads);
        var clean = vit.Forward(pixels);
        var sims = MeanSimilarity(vit, pixels, clean, maskTensor, kind == AblationKind.Mean ? meanZ : null, cancellationToken);
        return new Trajectory(name, order.Take(steps).ToArray(), sims);
    }

    /// <summary>Greedy order: at each step every remaining head is tried (one batched run) and the most damaging is kept.</summary>
    public static Trajectory Greedy(IHookedVit vit, torch.Tensor pixels, int steps, AblationKind kind = AblationKind.Zero,
        torch.Tensor? meanZ = null, CancellationToken cancellationToken = default)
    {
        var arch = vit.Architecture;
        int n = arch.NumLayers * arch.NumHeads;
        steps = Math.Min(steps, n);
        var removed = new List<int>();
        var curve = new List<double>();
        using var scope = torch.NewDisposeScope();
        var mz = kind == AblationKind.Mean ? meanZ : null;
        var clean = vit.Forward(pixels); // once: every step compares against the same clean output
        using (var none = torch.ones(1, arch.NumLayers, arch.NumHeads))
            curve.Add(MeanSimilarity(vit, pixels, clean, none, mz, cancellationToken)[0]);
        for (int s = 0; s < steps; s++)
        {
            var candidates = Enumerable.Range(0, n).Except(removed).ToArray();
            var masks = new float[candidates.Length * n];
            Array.Fill(masks, 1f);
            for (int c = 0; c < candidates.Length; c++)
            {
                foreach (var r in removed) masks[c * n + r] = 0f;
                masks[c * n + candidates[c]] = 0f;
            }
            using var inner = torch.NewDisposeScope();
            var sims = MeanSimilarity(vit, pixels, clean, torch.tensor(masks).view(candidates.Length, arch.NumLayers, arch.NumHeads), mz, cancellationToken);
            int best = Enumerable.Range(0, candidates.Length).OrderBy(i => sims[i]).ThenBy(i => candidates[i]).First();
            removed.Add(candidates[best]);
            curve.Add(sims[best]);
        }
        return new Trajectory("greedy", removed, curve);
    }

    /// <summary>DSL, greedy and random trajectories with the normalised AUC summary.</summary>
    /// <param name="vit">Encoder.</param>
    /// <param name="pixels">Images [B, C, S, S] (similarities are averaged over them).</param>
    /// <param name="dslScores">Layer-major DSL scores (higher = ablated earlier).</param>
    /// <param name="steps">Ablations per trajectory.</param>
    /// <param name="randomSeeds">Seeds of the random orders.</param>
    /// <param name="kind">Zero or mean ablation.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public static TrajectoryStudy Study(IHookedVit vit, torch.Tensor pixels, IReadOnlyList<double> dslScores, int steps,
        IReadOnlyList<int> randomSeeds, AblationKind kind = AblationKind.Zero, CancellationToken cancellationToken = default)
    {
        using var scope = torch.NewDisposeScope();
        var meanZ = kind == AblationKind.Mean ? HeadAblation.MeanZ(vit, pixels) : null;
        var dslOrder = dslScores.Select((s, i) => (s, i)).OrderByDescending(x => x.s).ThenBy(x => x.i).Select(x => x.i).ToArray();
        var dsl = ForOrder(vit, pixels, "dsl", dslOrder, steps, kind, meanZ, cancellationToken);
        var greedy = Greedy(vit, pixels, steps, kind, meanZ, cancellationToken);
        var randoms = randomSeeds.Select(seed =>
        {
            var order = Enumerable.Range(0, dslScores.Count).ToArray();
            new Random(seed).Shuffle(order);
            return ForOrder(vit, pixels, $"random:{seed}", order, steps, kind, meanZ, cancellationToken);
        }).ToArray();
        double aucRandom = randoms.Length == 0 ? double.NaN : randoms.Average(t => t.Auc);
        double denom = aucRandom - greedy.Auc;
        double normalized = Math.Abs(denom) < 1e-12 ? double.NaN : (aucRandom - dsl.Auc) / denom;
        return new TrajectoryStudy(dsl, greedy, randoms, normalized);
    }

    private static double[] MeanSimilarity(IHookedVit vit, torch.Tensor pixels, torch.Tensor clean, torch.Tensor masks, torch.Tensor? meanZ, CancellationToken ct)
    {
        using var scope = torch.NewDisposeScope();
        var outputs = HeadAblation.Run(vit, pixels, masks, meanZ, cancellationToken: ct); // [R, B, P]
        var cos = EmbeddingSimilarity.Cosine(outputs, clean.unsqueeze(0)).mean(new long[] { 1 }).cpu(); // [R]
        return cos.data<double>().ToArray();
    }
}
