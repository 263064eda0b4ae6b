using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Synthetic;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>Decoder fidelity: decode the final embedding of held-out images and judge shape and colour against the truth.</summary>
internal static class FidelityEvaluation
{
    /// <summary>Seed of the reported held-out set; choose another (<c>--fidelity-seed</c>) to compare settings without touching it.</summary>
    public const int Seed = 1_000_000;

    public sealed record Result(int Images, Agreement Inputs, Agreement Decoded, double ReEncodeCosine, double SecondsPerImage);

    public static Result Run(EvalContext ctx)
    {
        int n = ctx.Options.EvalImages;
        using var scope = NewDisposeScope();
        var attrs = ShapeDomain.Sample(n, ctx.Options.FidelitySeed);
        var images = ShapeDomain.Render(attrs);
        var embeds = ctx.Embed(images);
        double before = ctx.DecodeSeconds;
        var decoded = ctx.Decode(embeds);
        double perImage = (ctx.DecodeSeconds - before) / n;
        var inputs = ctx.Agree(attrs, images);
        var result = ctx.Agree(attrs, decoded);
        double reEncode = EmbeddingSimilarity.CosineRows(ctx.Embed(decoded), embeds).Average();
        ctx.SaveGrid("fidelity.png", new[] { ("input", images), ("decoded", decoded) }, rows: 12);
        Log.Line($"fidelity ({n} held-out images, seed {ctx.Options.FidelitySeed}): inputs judged {inputs}");
        Log.Line($"fidelity: decoded {result}; re-encode cos {reEncode:F3}; {perImage:F2} s/image");
        return new Result(n, inputs, result, reEncode, perImage);
    }
}
