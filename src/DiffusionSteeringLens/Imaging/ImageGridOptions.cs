namespace DiffusionSteeringLens.Imaging;

/// <summary>Appearance of an <see cref="ImageGrid"/>.</summary>
public sealed record ImageGridOptions
{
    /// <summary>Integer nearest-neighbour enlargement of every image (≥ 1). Ignored when <see cref="MinCellSize"/> asks for more.</summary>
    public int Upscale { get; init; } = 1;

    /// <summary>When set, small images are enlarged (nearest, by an integer factor) until their longer side reaches at least this many pixels.</summary>
    public int? MinCellSize { get; init; }

    /// <summary>Gap between cells and around the grid, in pixels.</summary>
    public int Padding { get; init; } = 4;

    /// <summary>Label text size in pixels.</summary>
    public float FontSize { get; init; } = 14f;

    /// <summary>Title text size in pixels.</summary>
    public float TitleFontSize { get; init; } = 18f;

    /// <summary>Background colour (R, G, B).</summary>
    public (byte R, byte G, byte B) Background { get; init; } = (255, 255, 255);

    /// <summary>Text colour (R, G, B).</summary>
    public (byte R, byte G, byte B) TextColor { get; init; } = (0, 0, 0);
}
