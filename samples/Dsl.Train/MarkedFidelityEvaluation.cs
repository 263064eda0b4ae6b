using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Synthetic;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>
/// Testbed decoder fidelity: held-out marked images → the testbed encoder → the shared (shipped) decoder, judged against
/// the shape and colour truth. The decoder was trained on the teacher's embedding space, so this measures how well the
/// distilled encoder lands in it; the marks themselves are not expected in the pictures.
/// </summary>
internal static class MarkedFidelityEvaluation
{
    public static FidelityEvaluation.Result Run(EvalContext ctx)
    {
        int n = ctx.Options.EvalImages;
        using var scope = NewDisposeScope();
        var attrs = MarkedShapeDomain.Sample(n, ctx.Options.FidelitySeed);
        var bases = attrs.Select(a => a.Base).ToList();
        var images = MarkedShapeDomain.Render(attrs);
        var embeds = ctx.Embed(images);
        double before = ctx.DecodeSeconds;
        var decoded = ctx.Decode(embeds);
        double perImage = (ctx.DecodeSeconds - before) / n;
        var inputs = ctx.Agree(bases, ShapeDomain.Render(bases));
        var result = ctx.Agree(bases, decoded);
        double reEncode = EmbeddingSimilarity.CosineRows(ctx.Embed(decoded), embeds).Average();
        ctx.SaveGrid("marked-fidelity.png", new[] { ("input", images), ("decoded", decoded) }, rows: 12);
        Log.Line($"marked fidelity ({n} held-out images, seed {ctx.Options.FidelitySeed}): unmarked inputs judged {inputs}");
        Log.Line($"marked fidelity: decoded {result}; re-encode cos {reEncode:F3}; {perImage:F2} s/image");
        return new FidelityEvaluation.Result(n, inputs, result, reEncode, perImage);
    }
}
