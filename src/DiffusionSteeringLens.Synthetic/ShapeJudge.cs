using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Synthetic;

/// <summary>
/// A training-free oracle for the shape domain, from pixel statistics: it judges shape class, colour, size, jitter and
/// the overlay of any 32×32 picture (a clean rendering or a decoder output), so decode fidelity can be scored against
/// the known ground truth.
/// </summary>
/// <remarks>
/// Steps: background = per-channel median of the border (outside the overlay corner); foreground colour = mean of the
/// pixels farthest from the background, snapped to the nearest palette colour; coverage = projection of each pixel onto
/// the background→colour axis; shape/size/jitter = the rendered template (4 classes × 3 sizes × 25 offsets) with the
/// best IoU against the coverage ≥ 0.5 mask. The overlay patch area is ignored for shape and colour; the overlay is
/// judged from the stripe-vs-gap contrast of the darkest channel (white is bright in every channel, no palette colour
/// is). Pixel statistics rather than a CNN: nothing to train or ship, and exact on clean images.
/// </remarks>
public sealed class ShapeJudge : IDisposable
{
    private const double OverlayThreshold = 0.2;
    // Just under 1/2: many edge pixels are covered by exactly 8 of 16 samples, and the estimate of such a pixel may
    // land a rounding error below 0.5.
    private const float CoverageThreshold = 0.499f;
    private readonly Tensor _templates;   // [K, P] 0/1 over the valid pixels
    private readonly Tensor _templateArea; // [K]
    private readonly Tensor _validIndex;  // [P] flat indices outside the overlay patch
    private readonly Tensor _borderIndex; // flat indices of the border (background) pixels
    private readonly Tensor _stripeIndex;
    private readonly Tensor _gapIndex;
    private readonly Tensor _palette;     // [7, 3]
    private readonly (ShapeKind Shape, int Size, int Ox, int Oy)[] _entries;

    /// <summary>Builds the template bank (a few hundred 32×32 masks; milliseconds).</summary>
    public ShapeJudge()
    {
        int n = ShapeDomain.ImageSize;
        var entries = new List<(ShapeKind, int, int, int)>();
        for (int k = 0; k < ShapePalette.ShapeCount; k++)
            for (int s = 0; s < ShapePalette.SizeCount; s++)
                for (int oy = -ShapeDomain.MaxJitter; oy <= ShapeDomain.MaxJitter; oy++)
                    for (int ox = -ShapeDomain.MaxJitter; ox <= ShapeDomain.MaxJitter; ox++)
                        entries.Add(((ShapeKind)k, s, ox, oy));
        _entries = entries.ToArray();

        var valid = new List<long>();
        var border = new List<long>();
        var stripes = new List<long>();
        var gaps = new List<long>();
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
            {
                long i = r * n + c;
                bool inPatch = r >= ShapeDomain.OverlayRows[0] && r <= ShapeDomain.OverlayRows[^1]
                               && c >= ShapeDomain.OverlayFirstColumn && c <= ShapeDomain.OverlayLastColumn;
                if (!inPatch) valid.Add(i);
                // Shapes stay within rows/columns 4..28 (centre 16 ± 2, half-extent ≤ 10).
                bool edge = r < 3 || r > n - 4 || c < 3 || c > n - 4;
                bool nearCorner = r >= ShapeDomain.OverlayRows[0] - 1 && c >= ShapeDomain.OverlayFirstColumn - 1;
                if (edge && !nearCorner) border.Add(i);
                if (c >= ShapeDomain.OverlayFirstColumn && c <= ShapeDomain.OverlayLastColumn)
                {
                    if (ShapeDomain.OverlayRows.Contains(r)) stripes.Add(i);
                    else if (r > ShapeDomain.OverlayRows[0] && r < ShapeDomain.OverlayRows[^1]) gaps.Add(i);
                }
            }
        _validIndex = tensor(valid.ToArray());
        _borderIndex = tensor(border.ToArray());
        _stripeIndex = tensor(stripes.ToArray());
        _gapIndex = tensor(gaps.ToArray());
        _palette = stack(ShapePalette.Rgb.Select(c => tensor(c)).ToArray());

        using var scope = NewDisposeScope();
        var coverage = ShapeDomain.Coverage(_entries.Select(e => e.Shape).ToArray(),
            _entries.Select(e => (double)ShapePalette.HalfExtents[e.Size]).ToArray(),
            _entries.Select(e => n / 2.0 + e.Ox).ToArray(), _entries.Select(e => n / 2.0 + e.Oy).ToArray());
        var masks = (coverage.flatten(1).index_select(1, _validIndex) >= CoverageThreshold).to(ScalarType.Float32);
        _templates = masks.DetachFromDisposeScope();
        _templateArea = masks.sum(1).DetachFromDisposeScope();
    }

    /// <summary>Judges pictures [B, 3, 32, 32] with values in [0, 1] (any device and floating dtype).</summary>
    /// <exception cref="ArgumentException">Not a [B, 3, 32, 32] tensor.</exception>
    public IReadOnlyList<ShapeJudgement> Judge(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        int n = ShapeDomain.ImageSize;
        if (images.dim() != 4 || images.shape[1] != 3 || images.shape[2] != n || images.shape[3] != n)
            throw new ArgumentException($"expected pictures [B, 3, {n}, {n}], found [{string.Join(", ", images.shape)}].", nameof(images));
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long b = images.shape[0];
        var x = images.detach().to(ScalarType.Float32, CPU).clamp(0, 1).flatten(2); // [B, 3, HW]
        var borderPixels = x.index_select(2, _borderIndex);
        var bg = borderPixels.kthvalue((borderPixels.shape[2] + 1) / 2, 2).Item1;  // per-channel median [B, 3]
        var pixels = x.index_select(2, _validIndex);                               // [B, 3, P]
        var diff = pixels - bg.unsqueeze(2);
        var dist = diff.norm(1);                                                   // [B, P]
        var far = (dist >= 0.8f * dist.max(1L, keepdim: true).values).to(ScalarType.Float32);
        var mean = (pixels * far.unsqueeze(1)).sum(2) / far.sum(1, keepdim: true).clamp_min(1);   // [B, 3]
        var colorDist = cdist(mean.unsqueeze(0), _palette.unsqueeze(0)).squeeze(0);              // [B, 7]
        var (nearest, colorIdx) = colorDist.min(1L);
        // Coverage axis: the palette colour when the estimate is close to it (exact on clean images), else the estimate.
        var snapped = _palette.index_select(0, colorIdx);
        var colour = where((nearest < 0.15f).unsqueeze(1), snapped, mean);
        var axis = colour - bg;
        var coverage = (diff * axis.unsqueeze(2)).sum(1) / (axis * axis).sum(1, keepdim: true).clamp_min(1e-6f);
        var mask = (coverage >= CoverageThreshold).to(ScalarType.Float32);                     // [B, P]
        var inter = mask.matmul(_templates.t());                                   // [B, K]
        var union = mask.sum(1, keepdim: true) + _templateArea.unsqueeze(0) - inter;
        var iou = inter / union.clamp_min(1);
        var (bestIou, best) = iou.max(1L);
        var darkest = x.min(1L).values;                                             // [B, HW]
        var overlay = darkest.index_select(1, _stripeIndex).mean(new long[] { 1 }) - darkest.index_select(1, _gapIndex).mean(new long[] { 1 });

        var bestA = best.data<long>().ToArray();
        var iouA = bestIou.data<float>().ToArray();
        var colorA = colorIdx.data<long>().ToArray();
        var nearA = nearest.data<float>().ToArray();
        var overlayA = overlay.data<float>().ToArray();
        var result = new ShapeJudgement[b];
        for (int i = 0; i < b; i++)
        {
            var e = _entries[bestA[i]];
            result[i] = new ShapeJudgement(e.Shape, (int)colorA[i], e.Size, e.Ox, e.Oy, iouA[i], nearA[i], overlayA[i] > OverlayThreshold, overlayA[i]);
        }
        return result;
    }

    /// <summary>Frees the template bank.</summary>
    public void Dispose()
    {
        _templates.Dispose();
        _templateArea.Dispose();
        _validIndex.Dispose();
        _borderIndex.Dispose();
        _stripeIndex.Dispose();
        _gapIndex.Dispose();
        _palette.Dispose();
    }
}
