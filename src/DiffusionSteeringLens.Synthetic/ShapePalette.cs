namespace DiffusionSteeringLens.Synthetic;

/// <summary>The fixed colours and sizes of the synthetic shape domain.</summary>
internal static class ShapePalette
{
    /// <summary>Colour names, indexed like <see cref="Rgb"/>.</summary>
    public static IReadOnlyList<string> ColorNames { get; } = new[] { "red", "orange", "yellow", "green", "cyan", "blue", "magenta" };

    /// <summary>Colours as RGB in [0, 1] (8-bit values / 255), saturated so none is close to the grey background.</summary>
    public static IReadOnlyList<float[]> Rgb { get; } = new[]
    {
        Rgb8(230, 40, 40), Rgb8(245, 145, 30), Rgb8(240, 225, 40), Rgb8(40, 190, 60),
        Rgb8(40, 200, 215), Rgb8(45, 75, 225), Rgb8(210, 50, 210),
    };

    /// <summary>Half-extent s in pixels of each size class (small, medium, large).</summary>
    public static IReadOnlyList<int> HalfExtents { get; } = new[] { 4, 7, 10 };

    /// <summary>Number of colours (7).</summary>
    public static int ColorCount => Rgb.Count;

    /// <summary>Number of size classes (3).</summary>
    public static int SizeCount => HalfExtents.Count;

    /// <summary>Number of shape classes (4).</summary>
    public static int ShapeCount => 4;

    private static float[] Rgb8(int r, int g, int b) => new[] { r / 255f, g / 255f, b / 255f };
}
