using DiffusionSteeringLens.Synthetic;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>
/// The testbed encoders' auxiliary objective: <see cref="AttributeTargets"/>' 20 logits for the base factors, then the
/// three new marks (dots 20, cross 21, bar 22; BCE) and the tick count (23..26; CE), all read linearly from image_embeds.
/// </summary>
internal static class MarkedAttributeTargets
{
    public const int Width = AttributeTargets.Width + 3 + MarkedShapeDomain.MaxCount + 1;

    public static Tensor Loss(Tensor logits, IReadOnlyList<MarkedShapeAttributes> a, double jitterWeight)
    {
        var marks = tensor(a.SelectMany(x => new[] { x.Dots ? 1f : 0f, x.Cross ? 1f : 0f, x.Bar ? 1f : 0f }).ToArray()).view(a.Count, 3);
        var count = tensor(a.Select(x => (long)x.Count).ToArray());
        return AttributeTargets.Loss(logits[.., ..AttributeTargets.Width], a.Select(x => x.Base).ToList(), jitterWeight)
             + nn.functional.binary_cross_entropy_with_logits(logits[.., AttributeTargets.Width..(AttributeTargets.Width + 3)], marks) * 3
             + nn.functional.cross_entropy(logits[.., (AttributeTargets.Width + 3)..], count);
    }

    /// <summary>Held-out accuracy of every attribute (base ones, each mark, the count).</summary>
    public static IReadOnlyDictionary<string, double> Accuracy(Tensor logits, IReadOnlyList<MarkedShapeAttributes> a)
    {
        var (shape, color, size, overlay) = AttributeTargets.Accuracy(logits[.., ..AttributeTargets.Width], a.Select(x => x.Base).ToList());
        var m = logits[.., AttributeTargets.Width..(AttributeTargets.Width + 3)].contiguous().data<float>().ToArray();
        var c = logits[.., (AttributeTargets.Width + 3)..].argmax(1).data<long>().ToArray();
        double n = a.Count;
        double Mark(int k, Func<MarkedShapeAttributes, bool> truth) => a.Select((x, i) => (m[3 * i + k] > 0) == truth(x)).Count(b => b) / n;
        return new Dictionary<string, double>
        {
            ["shape"] = shape, ["colour"] = color, ["size"] = size, ["stripes"] = overlay,
            ["dots"] = Mark(0, x => x.Dots), ["cross"] = Mark(1, x => x.Cross), ["bar"] = Mark(2, x => x.Bar),
            ["count"] = a.Select((x, i) => c[i] == x.Count).Count(b => b) / n,
        };
    }
}
