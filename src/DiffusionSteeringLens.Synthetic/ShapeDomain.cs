using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Synthetic;

/// <summary>
/// The procedural 32×32 RGB "one shape" domain with known ground truth: a shape of one of four classes, seven colours
/// and three sizes near the image centre on a tinted grey background, optionally with a white stripe overlay patch in
/// the bottom-right corner. Everything is deterministic given a seed.
/// </summary>
/// <remarks>
/// The shape is centred with a small integer jitter (±<see cref="MaxJitter"/> px) rather than placed anywhere: the
/// Kandinsky-style UNet has no absolute-position signal (translation-equivariant convolutions, global conditioning),
/// so a random position does not round-trip through the decoder and would cap the decode fidelity for reasons that have
/// nothing to do with the lens.
/// </remarks>
public static class ShapeDomain
{
    /// <summary>Image side in pixels.</summary>
    public const int ImageSize = 32;

    /// <summary>Largest centre jitter in pixels (each axis).</summary>
    public const int MaxJitter = 2;

    /// <summary>Rows of the overlay's white stripes.</summary>
    public static IReadOnlyList<int> OverlayRows { get; } = new[] { 24, 26, 28, 30 };

    /// <summary>First column of the overlay stripes (inclusive).</summary>
    public const int OverlayFirstColumn = 24;

    /// <summary>Last column of the overlay stripes (inclusive).</summary>
    public const int OverlayLastColumn = 30;

    private const int Supersample = 4;

    /// <summary>Draws <paramref name="count"/> attribute records from <paramref name="seed"/> (same seed, same records).</summary>
    /// <param name="count">Number of images.</param>
    /// <param name="seed">Random seed.</param>
    /// <param name="overlayProbability">Chance of the stripe overlay per image.</param>
    /// <exception cref="ArgumentOutOfRangeException">Negative count or a probability outside [0, 1].</exception>
    public static IReadOnlyList<ShapeAttributes> Sample(int count, int seed, double overlayProbability = 0.5)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (overlayProbability is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(overlayProbability), "must be in [0, 1].");
        // System.Random with an explicit seed uses a fixed legacy algorithm: stable across runtimes.
        var rng = new Random(seed);
        var list = new ShapeAttributes[count];
        for (int i = 0; i < count; i++)
        {
            var shape = (ShapeKind)rng.Next(ShapePalette.ShapeCount);
            int color = rng.Next(ShapePalette.ColorCount);
            int size = rng.Next(ShapePalette.SizeCount);
            int ox = rng.Next(-MaxJitter, MaxJitter + 1);
            int oy = rng.Next(-MaxJitter, MaxJitter + 1);
            double grey = 0.25 + 0.35 * rng.NextDouble();
            var bg = new float[3];
            for (int c = 0; c < 3; c++) bg[c] = (float)Math.Clamp(grey + (rng.NextDouble() * 0.14 - 0.07), 0, 1);
            bool overlay = rng.NextDouble() < overlayProbability;
            list[i] = new ShapeAttributes(shape, color, size, ox, oy, bg, overlay);
        }
        return list;
    }

    /// <summary>Renders attribute records into images [B, 3, 32, 32], float32 in [0, 1], on the CPU.</summary>
    /// <exception cref="ArgumentException">Empty list or an out-of-range attribute.</exception>
    public static Tensor Render(IReadOnlyList<ShapeAttributes> attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        if (attributes.Count == 0) throw new ArgumentException("at least one image is needed.", nameof(attributes));
        foreach (var a in attributes) Validate(a);
        int b = attributes.Count;
        using var scope = NewDisposeScope();
        var coverage = Coverage(attributes.Select(a => a.Shape).ToArray(), attributes.Select(a => (double)a.HalfExtent).ToArray(),
            attributes.Select(a => a.CenterX).ToArray(), attributes.Select(a => a.CenterY).ToArray()).unsqueeze(1); // [B,1,S,S]
        var bg = tensor(attributes.SelectMany(a => a.Background).ToArray()).view(b, 3, 1, 1);
        var fg = tensor(attributes.SelectMany(a => ShapePalette.Rgb[a.Color]).ToArray()).view(b, 3, 1, 1);
        var images = bg * (1 - coverage) + fg * coverage;
        var flags = tensor(attributes.Select(a => a.Overlay).ToArray()).view(b, 1, 1, 1);
        images = ApplyOverlay(images, flags);
        return images.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Anti-aliased coverage maps [B, 32, 32] in [0, 1]: the fraction of each pixel inside the shape, from a 4×4
    /// supersampled point test.
    /// </summary>
    /// <param name="shapes">Shape class per image.</param>
    /// <param name="halfExtents">Half-extent s in pixels per image.</param>
    /// <param name="centerX">Centre x in pixel units per image.</param>
    /// <param name="centerY">Centre y in pixel units per image.</param>
    /// <exception cref="ArgumentException">Arrays of different lengths.</exception>
    public static Tensor Coverage(IReadOnlyList<ShapeKind> shapes, IReadOnlyList<double> halfExtents, IReadOnlyList<double> centerX, IReadOnlyList<double> centerY)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        ArgumentNullException.ThrowIfNull(halfExtents);
        ArgumentNullException.ThrowIfNull(centerX);
        ArgumentNullException.ThrowIfNull(centerY);
        int b = shapes.Count;
        if (halfExtents.Count != b || centerX.Count != b || centerY.Count != b)
            throw new ArgumentException("shapes, halfExtents, centerX and centerY must have the same length.");
        using var scope = NewDisposeScope();
        int n = ImageSize * Supersample;
        var grid = (arange(n, dtype: ScalarType.Float32) + 0.5f) / Supersample; // sample points in pixel units
        var dx = (grid.view(1, 1, n) - tensor(centerX.Select(v => (float)v).ToArray()).view(b, 1, 1)).abs();
        var dyRaw = grid.view(1, n, 1) - tensor(centerY.Select(v => (float)v).ToArray()).view(b, 1, 1);
        var dy = dyRaw.abs();
        var s = tensor(halfExtents.Select(v => (float)v).ToArray()).view(b, 1, 1);
        var circle = (dx * dx + dy * dy) <= s * s;
        var square = (dx <= 0.85f * s) & (dy <= 0.85f * s);
        var triangle = (dyRaw >= -s) & (dyRaw <= 0.8f * s) & (dx <= 0.62f * (dyRaw + s));
        var cross = ((dx <= 0.35f * s) & (dy <= s)) | ((dy <= 0.35f * s) & (dx <= s));
        var kind = tensor(shapes.Select(k => (long)k).ToArray()).view(b, 1, 1);
        var mask = where(kind == 0L, circle, where(kind == 1L, square, where(kind == 2L, triangle, cross)));
        var coverage = nn.functional.avg_pool2d(mask.to(ScalarType.Float32).unsqueeze(1), Supersample).squeeze(1);
        return coverage.MoveToOuterDisposeScope();
    }

    /// <summary>The overlay's stripe mask [32, 32]: 1 on the white stripe pixels, 0 elsewhere.</summary>
    public static Tensor OverlayMask()
    {
        var mask = zeros(ImageSize, ImageSize);
        foreach (var r in OverlayRows)
            mask[r, TensorIndex.Slice(OverlayFirstColumn, OverlayLastColumn + 1)] = 1f;
        return mask;
    }

    /// <summary>Draws the overlay (white stripes, last, over everything) on every image of [B, 3, 32, 32]; returns a new tensor.</summary>
    /// <exception cref="ArgumentException">Not a [B, 3, 32, 32] tensor.</exception>
    public static Tensor ComposeOverlay(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        CheckImages(images, nameof(images));
        using var scope = NewDisposeScope();
        return ApplyOverlay(images, ones(images.shape[0], 1, 1, 1, dtype: ScalarType.Bool, device: images.device)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The overlay-only reference picture [1, 3, 32, 32]: the stripes on a plain mid-grey (0.45) background, i.e. the
    /// overlay without any shape (what an "overlay" lens picture should look like).
    /// </summary>
    public static Tensor RenderOverlayOnly()
    {
        using var scope = NewDisposeScope();
        var plain = full(1, 3, ImageSize, ImageSize, 0.45f);
        return ComposeOverlay(plain).MoveToOuterDisposeScope();
    }

    /// <summary>Images [B, 3, 32, 32] in [0, 1] → decoder space x·2 − 1 (the pixel-space stand-in for MoVQ latents).</summary>
    public static Tensor ToDecoderSpace(Tensor images) => images * 2 - 1;

    /// <summary>Decoder space → images in [0, 1] (x·0.5 + 0.5, clamped).</summary>
    public static Tensor FromDecoderSpace(Tensor samples) => (samples * 0.5 + 0.5).clamp(0, 1);

    private static Tensor ApplyOverlay(Tensor images, Tensor flags)
    {
        using var mask = OverlayMask().to(images.device).to(ScalarType.Bool).view(1, 1, ImageSize, ImageSize);
        return where(mask & flags, 1f, images);
    }

    private static void CheckImages(Tensor images, string name)
    {
        if (images.dim() != 4 || images.shape[1] != 3 || images.shape[2] != ImageSize || images.shape[3] != ImageSize)
            throw new ArgumentException($"expected images [B, 3, {ImageSize}, {ImageSize}], found [{string.Join(", ", images.shape)}].", name);
    }

    private static void Validate(ShapeAttributes a)
    {
        if (!Enum.IsDefined(a.Shape)) throw new ArgumentException($"unknown shape {a.Shape}.");
        if (a.Color < 0 || a.Color >= ShapePalette.ColorCount) throw new ArgumentException($"colour index {a.Color} is out of range.");
        if (a.Size < 0 || a.Size >= ShapePalette.SizeCount) throw new ArgumentException($"size index {a.Size} is out of range.");
        if (Math.Abs(a.OffsetX) > MaxJitter || Math.Abs(a.OffsetY) > MaxJitter) throw new ArgumentException($"jitter ({a.OffsetX}, {a.OffsetY}) exceeds ±{MaxJitter}.");
        if (a.Background is not { Count: 3 }) throw new ArgumentException("the background needs 3 channels.");
    }
}
