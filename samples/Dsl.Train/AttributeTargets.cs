using DiffusionSteeringLens.Synthetic;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>
/// The encoder's auxiliary objective: a Linear(32 → 20) head on image_embeds predicts every generative factor, so all
/// of them become linearly decodable from the embedding the decoder is conditioned on. Logit layout: shape 0..3,
/// colour 4..10, size 11..13, jitter 14..15, overlay 16, background 17..19.
/// </summary>
internal static class AttributeTargets
{
    public const int Width = 20;

    public static Tensor Loss(Tensor logits, IReadOnlyList<ShapeAttributes> a, double jitterWeight)
    {
        var shape = tensor(a.Select(x => (long)x.Shape).ToArray());
        var color = tensor(a.Select(x => (long)x.Color).ToArray());
        var size = tensor(a.Select(x => (long)x.Size).ToArray());
        var jitter = tensor(a.SelectMany(x => new[] { x.OffsetX / 2f, x.OffsetY / 2f }).ToArray()).view(a.Count, 2);
        var overlay = tensor(a.Select(x => x.Overlay ? 1f : 0f).ToArray());
        var bg = tensor(a.SelectMany(x => x.Background.Select(v => v * 4f - 1.7f)).ToArray()).view(a.Count, 3);
        return nn.functional.cross_entropy(logits[.., 0..4], shape)
             + nn.functional.cross_entropy(logits[.., 4..11], color)
             + nn.functional.cross_entropy(logits[.., 11..14], size)
             + jitterWeight * nn.functional.mse_loss(logits[.., 14..16], jitter)
             + nn.functional.binary_cross_entropy_with_logits(logits[.., 16], overlay)
             + 2 * nn.functional.mse_loss(logits[.., 17..20], bg);
    }

    /// <summary>Accuracy of shape, colour, size and overlay predictions.</summary>
    public static (double Shape, double Color, double Size, double Overlay) Accuracy(Tensor logits, IReadOnlyList<ShapeAttributes> a)
    {
        long[] Arg(Tensor t) => t.argmax(1).data<long>().ToArray();
        var s = Arg(logits[.., 0..4]); var c = Arg(logits[.., 4..11]); var z = Arg(logits[.., 11..14]);
        var o = logits[.., 16].data<float>().ToArray();
        double n = a.Count;
        return (a.Select((x, i) => s[i] == (long)x.Shape).Count(b => b) / n,
                a.Select((x, i) => c[i] == x.Color).Count(b => b) / n,
                a.Select((x, i) => z[i] == x.Size).Count(b => b) / n,
                a.Select((x, i) => (o[i] > 0) == x.Overlay).Count(b => b) / n);
    }
}
