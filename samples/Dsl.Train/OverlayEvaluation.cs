using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Synthetic;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>
/// Overlay removal: rank heads by how much their DSL read-out looks like the overlay-only picture, ablate the top k on
/// overlaid inputs, and check (embedding space via <see cref="OverlayStudy"/>, then in decoded pictures with the judge)
/// that the overlay disappears while the shape stays.
/// </summary>
internal static class OverlayEvaluation
{
    public const int Seed = 4_000_000;

    public sealed record EmbeddingRow(int TopK, IReadOnlyList<string> TopHeads, double PresenceBefore, double PresenceAfter,
        double RandomPresenceAfter, double Percentile, double CleanSimilarityAfter);

    public sealed record DecodedRow(string Condition, Agreement Judge, double OverlayRate, double MeanStripeContrast, double ImageSimilarityToOverlay);

    public sealed record Result(string Lens, IReadOnlyList<EmbeddingRow> Embedding, int DecodedTopK, IReadOnlyList<DecodedRow> Decoded);

    public static Result Run(EvalContext ctx)
    {
        int n = ctx.Options.OverlayImages;
        var arch = ctx.Encoder.Architecture;
        using var scope = NewDisposeScope();
        var attrs = ShapeDomain.Sample(n, Seed, overlayProbability: 0);
        var overlaidAttrs = attrs.Select(a => a with { Overlay = true }).ToArray();
        var baseImages = ShapeDomain.Render(attrs);
        var overlaid = ShapeDomain.ComposeOverlay(baseImages);
        var reference = ShapeDomain.RenderOverlayOnly();
        var lens = new SteeringLens(ctx.Encoder, new SteeringOptions { Steering = new RelativeSteering(1) });
        // Heads and the overlay direction are chosen on the first half of the images, presence is measured on the second.
        int half = Math.Max(1, n / 2);
        var basePixels = ToyModel.Normalize(baseImages);
        var overPixels = ToyModel.Normalize(overlaid);
        using var calibration = new OverlayPair(basePixels.narrow(0, 0, half), overPixels.narrow(0, 0, half));
        using var evaluation = new OverlayPair(basePixels.narrow(0, half, n - half), overPixels.narrow(0, half, n - half));
        var rows = new List<EmbeddingRow>();
        foreach (int k in new[] { 1, 2, 3, 4 })
        {
            var r = OverlayStudy.Run(lens, calibration, evaluation, k);
            var row = new EmbeddingRow(k, r.TopHeads.Select(h => h.Label).ToArray(), r.PresenceBefore, r.PresenceAfter,
                r.RandomPresenceMean, r.Percentile, r.CleanSimilarityAfter);
            rows.Add(row);
            Log.Line($"overlay (embedding, top {k}: {string.Join(", ", row.TopHeads)}): overlay presence {row.PresenceBefore:F3} → {row.PresenceAfter:F3} " +
                     $"(random {k}-subsets {row.RandomPresenceAfter:F3}, percentile {row.Percentile:P1}); cos to clean on clean images {row.CleanSimilarityAfter:F3}");
        }

        int topK = ctx.Options.OverlayTopK;
        var chosen = rows.First(r => r.TopK == topK);
        int numHeads = arch.NumLayers * arch.NumHeads;
        var top = chosen.TopHeads.Select(LensTarget.Parse).Cast<HeadTarget>().Select(h => h.Layer * arch.NumHeads + h.Head).ToArray();
        var randomOrder = Enumerable.Range(0, numHeads).ToArray();
        new Random(0).Shuffle(randomOrder);
        var masks = stack(new[] { KeepMask(numHeads, top), KeepMask(numHeads, randomOrder.Take(topK)) }).view(2, arch.NumLayers, arch.NumHeads);
        var pixels = ToyModel.Normalize(overlaid);
        var ablated = HeadAblation.Run(ctx.Encoder, pixels, masks);                        // [2, B, P]
        var all = cat(new[] { ctx.Embed(baseImages), ctx.Embed(overlaid), ablated[0], ablated[1] }, 0);
        var decoded = ctx.Decode(all).view(4, n, 3, 32, 32);
        var names = new[] { "base (no overlay)", "overlaid", $"overlaid, top-{topK} DSL overlay heads ablated", $"overlaid, {topK} random heads ablated" };
        var decodedRows = new List<DecodedRow>();
        var referenceBatch = reference.expand(n, -1, -1, -1);
        for (int i = 0; i < 4; i++)
        {
            var pictures = decoded[i];
            var verdicts = ctx.Judge.Judge(pictures);
            var agreement = ctx.Agree(overlaidAttrs, pictures);
            double rate = verdicts.Count(v => v.Overlay) / (double)n;
            double sim = ctx.Similarity.Similarity(pictures, referenceBatch).Average();
            var row = new DecodedRow(names[i], agreement, rate, verdicts.Average(v => v.OverlayScore), sim);
            decodedRows.Add(row);
            Log.Line($"overlay decoded [{row.Condition}]: overlay visible in {rate:P1} (stripe contrast {row.MeanStripeContrast:F3}), " +
                     $"image sim to overlay-only {sim:F3}; shape & colour kept {agreement.Both:P1}");
        }
        ctx.SaveGrid("overlay.png", new[] { ("input", overlaid), ("decoded", decoded[1]), ($"top-{topK} ablated", decoded[2]), ("random ablated", decoded[3]) }, rows: 8);
        return new Result(HeadRankingEvaluation.Describe(lens), rows, topK, decodedRows);
    }

    private static Tensor KeepMask(int n, IEnumerable<int> ablated)
    {
        var m = Enumerable.Repeat(1f, n).ToArray();
        foreach (var i in ablated) m[i] = 0f;
        return tensor(m);
    }
}
