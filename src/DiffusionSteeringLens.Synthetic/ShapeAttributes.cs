namespace DiffusionSteeringLens.Synthetic;

/// <summary>The ground truth of one synthetic image: every generative factor.</summary>
/// <param name="Shape">Shape class.</param>
/// <param name="Color">Index into <see cref="ShapePalette.Rgb"/>.</param>
/// <param name="Size">Index into <see cref="ShapePalette.HalfExtents"/>.</param>
/// <param name="OffsetX">Horizontal jitter of the centre in whole pixels, in [−<see cref="ShapeDomain.MaxJitter"/>, +<see cref="ShapeDomain.MaxJitter"/>].</param>
/// <param name="OffsetY">Vertical jitter of the centre in whole pixels (positive is down).</param>
/// <param name="Background">Background RGB in [0, 1] (grey plus a small tint).</param>
/// <param name="Overlay">Whether the white stripe patch is drawn in the bottom-right corner.</param>
public sealed record ShapeAttributes(ShapeKind Shape, int Color, int Size, int OffsetX, int OffsetY, IReadOnlyList<float> Background, bool Overlay)
{
    /// <summary>Centre x in pixel units (pixel i spans [i, i+1)); the image centre is 16.</summary>
    public double CenterX => ShapeDomain.ImageSize / 2.0 + OffsetX;

    /// <summary>Centre y in pixel units.</summary>
    public double CenterY => ShapeDomain.ImageSize / 2.0 + OffsetY;

    /// <summary>Half-extent s in pixels.</summary>
    public int HalfExtent => ShapePalette.HalfExtents[Size];

    /// <summary>A short label such as <c>red circle (s7)</c>.</summary>
    public override string ToString() =>
        $"{ShapePalette.ColorNames[Color]} {Shape.ToString().ToLowerInvariant()} (s{HalfExtent}{(Overlay ? ", overlay" : "")})";
}
