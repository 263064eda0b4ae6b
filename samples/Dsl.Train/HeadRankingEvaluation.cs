using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Synthetic;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>
/// DSL vs DL-on-heads: how well each lens's head scores rank heads by causal importance (single-head zero ablation),
/// Spearman ρ averaged over images with a permutation p-value; and DSL's ablation trajectory (normalised AUC).
/// Embedding-space scores on every image; image-space scores (decode, then encoder similarity to the input) on a subset.
/// </summary>
internal static class HeadRankingEvaluation
{
    public const int Seed = 3_000_000;

    public sealed record LensRow(string Lens, string Space, int Images, double Rho, double PValue, IReadOnlyList<string> TopHeads);

    public sealed record TrajectoryRow(string Order, double NormalizedAuc, double Auc, double GreedyAuc, double RandomAuc);

    public sealed record Result(IReadOnlyList<LensRow> Rankings, IReadOnlyList<TrajectoryRow> Trajectories, IReadOnlyList<string> ImportanceTopHeads);

    public static Result Run(EvalContext ctx)
    {
        int n = ctx.Options.LensImages;
        var arch = ctx.Encoder.Architecture;
        using var scope = NewDisposeScope();
        var attrs = ShapeDomain.Sample(n, Seed);
        var images = ShapeDomain.Render(attrs);
        var pixels = ToyModel.Normalize(images);
        var importance = AblationImportance.Compute(ctx.Encoder, pixels, AblationKind.Zero);
        var importanceTop = Top(Mean(importance), arch.NumHeads);
        Log.Line($"heads: mean zero-ablation importance, top {string.Join(", ", importanceTop)}; values " +
                 string.Join(" ", Mean(importance).Select(v => v.ToString("F3"))));

        var lenses = new List<ILens> { new DiffusionLens(ctx.Encoder) };
        foreach (var steering in new SteeringFunction[] { new RelativeSteering(0.5), new RelativeSteering(1), new RelativeSteering(2), new ScaleSteering(8) })
            lenses.Add(new SteeringLens(ctx.Encoder, new SteeringOptions { Steering = steering }));

        var rows = new List<LensRow>();
        var trajectories = new List<TrajectoryRow>();
        foreach (var lens in lenses)
        {
            var scores = HeadScoring.EmbeddingScores(lens, pixels);
            var corr = SpearmanCorrelation.MeanRho(scores, importance, permutations: 2000, seed: 1);
            var row = new LensRow(Describe(lens), "embedding", n, corr.Rho, corr.PValue, Top(Mean(scores), arch.NumHeads));
            rows.Add(row);
            Log.Line($"heads {row.Lens} ({row.Space}, {n} images): mean ρ {corr.Rho:F3}, p {corr.PValue:G3}; top {string.Join(", ", row.TopHeads)}");
            // Greedy is fitted on the first half of the images and every order is scored on the second half.
            int half = Math.Max(1, n / 2);
            var study = AblationTrajectories.Study(ctx.Encoder, pixels.narrow(0, 0, half), pixels.narrow(0, half, n - half), Mean(scores),
                arch.NumLayers * arch.NumHeads, randomOrders: 1000, seed: 1);
            var t = new TrajectoryRow(Describe(lens), study.NormalizedAuc, study.Dsl.Auc, study.Greedy.Auc, study.RandomAucs.Average());
            trajectories.Add(t);
            Log.Line($"trajectory by {t.Order} order: normalised AUC {t.NormalizedAuc:F3} (AUC {t.Auc:F3}, greedy {t.GreedyAuc:F3}, random {t.RandomAuc:F3})");
        }

        // Image space on a subset: decode every head's lens embedding, similarity of the picture to the input image.
        int k = Math.Min(ctx.Options.HeadImageImages, n);
        if (k > 0)
        {
            var subsetPixels = pixels.narrow(0, 0, k);
            var subsetImages = images.narrow(0, 0, k);
            var subsetImportance = importance.Take(k).ToArray();
            var heads = LensTarget.AllHeads(arch);
            foreach (var lens in new[] { lenses[0], lenses[2] })
            {
                var e = lens.ComputeEmbeddings(subsetPixels, heads);                                  // [k, N, P]
                var decoded = ctx.Decode(e.reshape(k * heads.Count, -1));                             // image-major
                var references = subsetImages.repeat_interleave(heads.Count, dim: 0);
                var sim = ctx.Similarity.Similarity(decoded, references);
                var scores = Enumerable.Range(0, k).Select(b => sim.Skip(b * heads.Count).Take(heads.Count).ToArray()).ToArray();
                var corr = SpearmanCorrelation.MeanRho(scores, subsetImportance, permutations: 2000, seed: 1);
                var row = new LensRow(Describe(lens), "image", k, corr.Rho, corr.PValue, Top(Mean(scores), arch.NumHeads));
                rows.Add(row);
                Log.Line($"heads {row.Lens} ({row.Space}, {k} images): mean ρ {corr.Rho:F3}, p {corr.PValue:G3}; top {string.Join(", ", row.TopHeads)}");
                var grid = decoded.view(k, heads.Count, 3, 32, 32);
                var columns = new List<(string, Tensor)> { ("input", subsetImages) };
                for (int h = 0; h < heads.Count; h++) columns.Add((heads[h].Label, grid.select(1, h)));
                ctx.SaveGrid($"heads-{row.Lens.Replace(':', '-').Replace(' ', '-')}.png", columns, rows: Math.Min(k, 6));
            }
        }
        return new Result(rows, trajectories, importanceTop);
    }

    public static string Describe(ILens lens) => lens is SteeringLens s ? $"DSL {s.Options.Steering}" : lens.Name;

    private static double[] Mean(IReadOnlyList<IReadOnlyList<double>> perImage) =>
        Enumerable.Range(0, perImage[0].Count).Select(i => perImage.Average(r => r[i])).ToArray();

    private static IReadOnlyList<string> Top(IReadOnlyList<double> scores, int numHeads) =>
        HeadScore.RankAll(scores, numHeads).Take(4).Select(h => h.Label).ToArray();
}
