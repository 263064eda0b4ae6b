using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Synthetic;

/// <summary>
/// A richer procedural domain for testbeds with many heads: a <see cref="ShapeDomain"/> image plus four independent
/// marks, one per corner (<see cref="MarkKind"/>: the original stripes and three new ones), and a count of dark ticks in
/// the top band. Each mark is its own attribute in its own patches; the count is spread across patches.
/// </summary>
/// <remarks>
/// The base record of image i is exactly <see cref="ShapeDomain.Sample"/>'s record i for the same seed, so the shapes
/// (and stripes) of a marked image are the ones the shipped shapes32 model was trained on; the marks come from a second,
/// independent stream. Deterministic given the seed.
/// </remarks>
public static class MarkedShapeDomain
{
    /// <summary>Largest number of ticks in the top band.</summary>
    public const int MaxCount = 3;

    /// <summary>Columns where ticks may stand (each tick is 2×2 pixels at rows 1–2).</summary>
    public static IReadOnlyList<int> TickColumns { get; } = new[] { 10, 13, 16, 19 };

    private const float TickValue = 0.05f;

    /// <summary>Draws <paramref name="count"/> records from <paramref name="seed"/>; each mark appears with probability ½.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative count.</exception>
    public static IReadOnlyList<MarkedShapeAttributes> Sample(int count, int seed)
    {
        var bases = ShapeDomain.Sample(count, seed);
        // A separate stream, so adding the marks leaves the base records exactly as ShapeDomain draws them.
        var rng = new Random(unchecked(seed * 7919 + 104_729));
        return bases.Select(b =>
        {
            bool dots = rng.NextDouble() < 0.5, cross = rng.NextDouble() < 0.5, bar = rng.NextDouble() < 0.5;
            int ticks = rng.Next(MaxCount + 1);
            return new MarkedShapeAttributes(b, dots, cross, bar, ticks);
        }).ToList();
    }

    /// <summary>Renders records into images [B, 3, 32, 32] in [0, 1] (CPU, float32).</summary>
    /// <exception cref="ArgumentException">An empty list or an out-of-range attribute.</exception>
    public static Tensor Render(IReadOnlyList<MarkedShapeAttributes> attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        foreach (var a in attributes)
            if (a.Count is < 0 or > MaxCount) throw new ArgumentException($"tick count {a.Count} is outside 0..{MaxCount}.", nameof(attributes));
        using var scope = NewDisposeScope();
        var images = ShapeDomain.Render(attributes.Select(a => a.Base).ToList());
        int b = attributes.Count;
        foreach (var kind in new[] { MarkKind.Dots, MarkKind.Cross, MarkKind.Bar })
        {
            var flags = tensor(attributes.Select(a => a.Has(kind)).ToArray()).view(b, 1, 1, 1);
            var mask = MarkMask(kind).to(ScalarType.Bool).view(1, 1, ShapeDomain.ImageSize, ShapeDomain.ImageSize);
            images = where(mask & flags, 1f, images);
        }
        var ticks = zeros(b, 1, ShapeDomain.ImageSize, ShapeDomain.ImageSize, dtype: ScalarType.Bool);
        for (int i = 0; i < b; i++)
            for (int t = 0; t < attributes[i].Count; t++)
                ticks[i, 0, TensorIndex.Slice(1, 3), TensorIndex.Slice(TickColumns[TickSlot(attributes[i], t)], TickColumns[TickSlot(attributes[i], t)] + 2)] = true;
        images = where(ticks, TickValue, images);
        return images.MoveToOuterDisposeScope();
    }

    /// <summary>The pixel mask [32, 32] of one mark (1 on its white pixels).</summary>
    public static Tensor MarkMask(MarkKind kind)
    {
        if (kind == MarkKind.Stripes) return ShapeDomain.OverlayMask();
        var mask = zeros(ShapeDomain.ImageSize, ShapeDomain.ImageSize);
        switch (kind)
        {
            case MarkKind.Dots:
                foreach (int r in new[] { 2, 4, 6 })
                    foreach (int c in new[] { 2, 4, 6 })
                        mask[r, c] = 1f;
                break;
            case MarkKind.Cross:
                for (int k = 0; k < 6; k++)
                {
                    mask[1 + k, 25 + k] = 1f;
                    mask[1 + k, 30 - k] = 1f;
                }
                break;
            case MarkKind.Bar:
                mask[TensorIndex.Slice(24, 31), TensorIndex.Slice(2, 4)] = 1f;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
        return mask;
    }

    /// <summary>Draws mark <paramref name="kind"/> on every image of [B, 3, 32, 32]; returns a new tensor.</summary>
    public static Tensor ComposeMark(Tensor images, MarkKind kind)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        var mask = MarkMask(kind).to(images.device).to(ScalarType.Bool).view(1, 1, ShapeDomain.ImageSize, ShapeDomain.ImageSize);
        return where(mask, 1f, images).MoveToOuterDisposeScope();
    }

    // Ticks fill the slots from a per-image rotation so that their positions vary while the count stays the attribute.
    private static int TickSlot(MarkedShapeAttributes a, int t) => (a.Base.OffsetX + a.Base.OffsetY + 4 + t) % TickColumns.Count;
}
