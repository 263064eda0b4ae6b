namespace DiffusionSteeringLens.Synthetic;

/// <summary>What <see cref="ShapeJudge"/> sees in one picture.</summary>
/// <param name="Shape">Shape class of the best-matching template.</param>
/// <param name="Color">Nearest palette colour to the mean foreground colour.</param>
/// <param name="Size">Size class of the best-matching template.</param>
/// <param name="OffsetX">Horizontal centre jitter of the best-matching template.</param>
/// <param name="OffsetY">Vertical centre jitter of the best-matching template.</param>
/// <param name="ShapeIoU">IoU between the foreground mask and that template (1 for a clean image).</param>
/// <param name="ColorDistance">RGB distance from the foreground colour to the chosen palette colour.</param>
/// <param name="Overlay">Whether the stripe overlay is visible.</param>
/// <param name="OverlayScore">Stripe contrast: mean min-channel brightness of the stripe rows minus that of the gap rows (≈0.35–0.75 with the overlay, ≈0 without).</param>
public sealed record ShapeJudgement(ShapeKind Shape, int Color, int Size, int OffsetX, int OffsetY, double ShapeIoU,
    double ColorDistance, bool Overlay, double OverlayScore)
{
    /// <summary>Whether shape and colour both agree with <paramref name="truth"/>.</summary>
    public bool Matches(ShapeAttributes truth)
    {
        ArgumentNullException.ThrowIfNull(truth);
        return Shape == truth.Shape && Color == truth.Color;
    }
}
