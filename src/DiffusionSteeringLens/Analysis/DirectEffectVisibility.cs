using DiffusionSteeringLens.Lenses;
using TorchSharp;

namespace DiffusionSteeringLens.Analysis;

/// <summary>
/// Whether the read-out can see a head's direct effect at all: δ_h = ‖normalize(R(r − o_h + σ(o_h))) − normalize(R(r − o_h))‖,
/// the steered read-out against the read-out with the head's write removed, through the same lens (no importance used).
/// A head whose write lies where the read-out is blind (e.g. on coordinates the final LayerNorm zeroes, so only the
/// read-out's scale changes) has δ ≈ 0: DSL then scores it cos = 1 like a head that writes nothing, although its write
/// may matter a lot through later layers.
/// </summary>
internal static class DirectEffectVisibility
{
    /// <summary>A head is flagged when its mean δ is below this share of the median head's.</summary>
    public const double DefaultRelativeThreshold = 1e-3;

    /// <summary>σ = 0: the steering whose read-out has each target's write removed (every other lens option kept).</summary>
    public static SteeringFunction Removal { get; } = new ScaleSteering(0);

    /// <summary>δ [B, N] (float64) from steered and removed read-outs, both [B, N, P].</summary>
    public static torch.Tensor Delta(torch.Tensor steered, torch.Tensor removed)
    {
        using var scope = torch.NewDisposeScope();
        var s64 = steered.to(torch.float64);
        var r64 = removed.to(torch.float64);
        var a = s64 / s64.norm(-1, keepdim: true).clamp_min(1e-30);
        var b = r64 / r64.norm(-1, keepdim: true).clamp_min(1e-30);
        return (a - b).norm(-1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Heads (layer-major indices) whose image-averaged δ [B][N] is below <paramref name="relativeThreshold"/> × the
    /// median head's: the read-out cannot see their direct effect.
    /// </summary>
    public static IReadOnlyList<int> InvisibleHeads(double[][] delta, double relativeThreshold = DefaultRelativeThreshold)
    {
        int n = delta[0].Length;
        var mean = Enumerable.Range(0, n).Select(h => delta.Average(r => r[h])).ToArray();
        double median = mean.OrderBy(v => v).ElementAt(n / 2);
        return Enumerable.Range(0, n).Where(h => mean[h] < relativeThreshold * median).ToArray();
    }
}
