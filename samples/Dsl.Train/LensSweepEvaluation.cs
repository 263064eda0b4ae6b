using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Synthetic;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>Diffusion Lens layer sweep: decode every layer's residual read-out and compare with the input.</summary>
internal static class LensSweepEvaluation
{
    public const int Seed = 2_000_000;

    public sealed record Row(string Site, double ImageSimilarity, double EmbeddingCosine, Agreement Judge);

    public static IReadOnlyList<Row> Run(EvalContext ctx)
    {
        int n = ctx.Options.LensImages;
        using var scope = NewDisposeScope();
        var attrs = ShapeDomain.Sample(n, Seed);
        var images = ShapeDomain.Render(attrs);
        var pixels = ToyModel.Normalize(images);
        var clean = ctx.Encoder.Forward(pixels);
        var targets = new List<LensTarget> { new ResidualTarget(0, ResidualPosition.Pre) };
        targets.AddRange(LensTarget.LayerSweep(ctx.Encoder.Architecture));
        var lens = new DiffusionLens(ctx.Encoder);
        var e = lens.ComputeEmbeddings(pixels, targets);                        // [B, T, P]
        var flat = e.transpose(0, 1).reshape(targets.Count * n, -1);           // target-major
        var decoded = ctx.Decode(flat).view(targets.Count, n, 3, 32, 32);
        var rows = new List<Row>();
        var columns = new List<(string, Tensor)> { ("input", images) };
        for (int t = 0; t < targets.Count; t++)
        {
            var pictures = decoded[t];
            double sim = ctx.Similarity.Similarity(pictures, images).Average();
            double cos = EmbeddingSimilarity.CosineRows(e.select(1, t), clean).Average();
            var row = new Row(targets[t].Label, sim, cos, ctx.Agree(attrs, pictures));
            rows.Add(row);
            columns.Add((targets[t].Label, pictures));
            Log.Line($"DL sweep {row.Site}: image similarity {sim:F3}, embedding cos {cos:F3}; judge {row.Judge}");
        }
        ctx.SaveGrid("dl-sweep.png", columns, rows: 10);
        return rows;
    }
}
