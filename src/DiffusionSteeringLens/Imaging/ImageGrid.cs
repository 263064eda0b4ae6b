using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SkiaSharp;
using TorchSharp;

namespace DiffusionSteeringLens.Imaging;

/// <summary>
/// A labelled grid of images (rows × columns) rendered to an RGB image or a PNG file: optional title, row labels
/// (left), column labels (top) and per-cell captions (below each image). Text uses the embedded DejaVu Sans
/// (<see cref="EmbeddedFonts"/>), so no system font manager is needed.
/// </summary>
/// <remarks>
/// Images are copied when added (the caller keeps ownership of its tensors). Every image is enlarged by the same
/// integer nearest-neighbour factor (<see cref="ImageGridOptions.Upscale"/> / <see cref="ImageGridOptions.MinCellSize"/>),
/// so pixels stay crisp and exact; images are centred in their cell, and columns widen to fit their captions and labels.
/// </remarks>
public sealed class ImageGrid
{
    private readonly Cell?[,] _cells;
    private readonly ILogger<ImageGrid> _logger;

    /// <summary>Creates an empty grid.</summary>
    /// <param name="rows">Number of rows (≥ 1).</param>
    /// <param name="columns">Number of columns (≥ 1).</param>
    /// <param name="options">Appearance; defaults when null.</param>
    /// <param name="logger">Optional logger (render summary at debug level).</param>
    public ImageGrid(int rows, int columns, ImageGridOptions? options = null, ILogger<ImageGrid>? logger = null)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "must be at least 1.");
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "must be at least 1.");
        Options = options ?? new ImageGridOptions();
        if (Options.Upscale < 1) throw new ArgumentException($"Upscale must be ≥ 1, got {Options.Upscale}.", nameof(options));
        if (Options.MinCellSize is < 1) throw new ArgumentException($"MinCellSize must be ≥ 1, got {Options.MinCellSize}.", nameof(options));
        if (Options.Padding < 0) throw new ArgumentException($"Padding must be ≥ 0, got {Options.Padding}.", nameof(options));
        if (Options.FontSize <= 0 || Options.TitleFontSize <= 0) throw new ArgumentException("font sizes must be positive.", nameof(options));
        Rows = rows;
        Columns = columns;
        _cells = new Cell?[rows, columns];
        RowLabels = new string?[rows];
        ColumnLabels = new string?[columns];
        _logger = logger ?? NullLogger<ImageGrid>.Instance;
    }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Number of columns.</summary>
    public int Columns { get; }

    /// <summary>Appearance settings.</summary>
    public ImageGridOptions Options { get; }

    /// <summary>Optional title drawn above the grid.</summary>
    public string? Title { get; set; }

    /// <summary>Optional label per row (drawn to the left); null entries are blank.</summary>
    public string?[] RowLabels { get; }

    /// <summary>Optional label per column (drawn above); null entries are blank.</summary>
    public string?[] ColumnLabels { get; }

    /// <summary>Places an image (a copy) in a cell, replacing any previous one.</summary>
    /// <param name="row">Row index.</param>
    /// <param name="column">Column index.</param>
    /// <param name="image">Float <c>[3, H, W]</c> in [0, 1] (converted with <c>round(clamp(x,0,1)·255)</c>) or RGB uint8 <c>[H, W, 3]</c>.</param>
    /// <param name="caption">Optional caption drawn under the image.</param>
    /// <exception cref="ArgumentOutOfRangeException">The cell is outside the grid.</exception>
    /// <exception cref="ArgumentException">Unsupported tensor shape or dtype.</exception>
    public void SetImage(int row, int column, torch.Tensor image, string? caption = null)
    {
        if (row < 0 || row >= Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"grid has {Rows} rows.");
        if (column < 0 || column >= Columns) throw new ArgumentOutOfRangeException(nameof(column), column, $"grid has {Columns} columns.");
        ArgumentNullException.ThrowIfNull(image);
        using var hwc = ImageIO.AsUint8Hwc(image, nameof(image));
        _cells[row, column] = new Cell(Uint8Pixels.ToArray(hwc), (int)hwc.shape[1], (int)hwc.shape[0], caption);
    }

    /// <summary>Renders the grid as an RGB uint8 tensor <c>[H, W, 3]</c>.</summary>
    /// <exception cref="InvalidOperationException">No cell has an image.</exception>
    public torch.Tensor Render(CancellationToken cancellationToken = default)
    {
        var rgb = RenderRgb(out int w, out int h, cancellationToken);
        return Uint8Pixels.FromArray(rgb, h, w, 3);
    }

    /// <summary>Renders the grid and writes it as PNG atomically (temporary file, then rename).</summary>
    /// <exception cref="InvalidOperationException">No cell has an image.</exception>
    public void Save(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var rgb = RenderRgb(out int w, out int h, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        ImageIO.WriteAtomically(path, ImageIO.EncodePngBytes(rgb, w, h));
        _logger.LogDebug("Wrote {Rows}x{Columns} image grid ({Width}x{Height}) to {Path}", Rows, Columns, w, h, path);
    }

    /// <summary>Geometry of the last render (for tests).</summary>
    internal GridLayout? LastLayout { get; private set; }

    internal sealed record GridLayout(int Width, int Height, int Scale, SKRectI TitleBand, SKRectI[] ColumnLabelRects, SKRectI[] RowLabelRects, SKRectI[,] ImageRects, SKRectI[,] CaptionRects);

    private sealed record Cell(byte[] Rgb, int Width, int Height, string? Caption);

    private GridLayout ComputeLayout(SKFont font, SKFont titleFont)
    {
        int maxW = 0, maxH = 0;
        bool anyCaption = false;
        foreach (var c in _cells)
        {
            if (c is null) continue;
            maxW = Math.Max(maxW, c.Width);
            maxH = Math.Max(maxH, c.Height);
            anyCaption |= !string.IsNullOrEmpty(c.Caption);
        }
        if (maxW == 0) throw new InvalidOperationException("the image grid has no images.");

        int scale = Options.Upscale;
        if (Options.MinCellSize is int min) scale = Math.Max(scale, (min + Math.Max(maxW, maxH) - 1) / Math.Max(maxW, maxH));
        int imageW = maxW * scale, cellH = maxH * scale, pad = Options.Padding;
        int line = (int)Math.Ceiling(font.Spacing);
        // Columns are wide enough for the widest caption or column label, so text is not clipped.
        int cellW = imageW;
        foreach (var c in _cells)
            if (!string.IsNullOrEmpty(c?.Caption)) cellW = Math.Max(cellW, (int)Math.Ceiling(font.MeasureText(c.Caption)));
        foreach (var l in ColumnLabels)
            if (!string.IsNullOrEmpty(l)) cellW = Math.Max(cellW, (int)Math.Ceiling(font.MeasureText(l)));
        int titleH = string.IsNullOrEmpty(Title) ? 0 : (int)Math.Ceiling(titleFont.Spacing) + pad;
        int colLabelH = ColumnLabels.Any(l => !string.IsNullOrEmpty(l)) ? line + pad : 0;
        int rowLabelW = 0;
        foreach (var l in RowLabels)
            if (!string.IsNullOrEmpty(l)) rowLabelW = Math.Max(rowLabelW, (int)Math.Ceiling(font.MeasureText(l)) + pad);
        int captionH = anyCaption ? line : 0;

        int width = pad + rowLabelW + Columns * (cellW + pad);
        int height = pad + titleH + colLabelH + Rows * (cellH + captionH + pad);
        if (!string.IsNullOrEmpty(Title)) width = Math.Max(width, (int)Math.Ceiling(titleFont.MeasureText(Title)) + 2 * pad);

        var images = new SKRectI[Rows, Columns];
        var captions = new SKRectI[Rows, Columns];
        var rowLabels = new SKRectI[Rows];
        var colLabels = new SKRectI[Columns];
        int gridTop = pad + titleH + colLabelH, gridLeft = pad + rowLabelW;
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Columns; c++)
            {
                int x = gridLeft + c * (cellW + pad), y = gridTop + r * (cellH + captionH + pad);
                var cell = _cells[r, c];
                if (cell is not null)
                {
                    int w = cell.Width * scale, h = cell.Height * scale;
                    int ix = x + (cellW - w) / 2, iy = y + (cellH - h) / 2;
                    images[r, c] = new SKRectI(ix, iy, ix + w, iy + h);
                }
                captions[r, c] = new SKRectI(x, y + cellH, x + cellW, y + cellH + captionH);
                if (c == 0) rowLabels[r] = new SKRectI(pad, y, pad + Math.Max(0, rowLabelW - pad), y + cellH);
                if (r == 0) colLabels[c] = new SKRectI(x, pad + titleH, x + cellW, pad + titleH + Math.Max(0, colLabelH - pad));
            }
        return new GridLayout(width, height, scale,
            new SKRectI(0, pad, width, pad + Math.Max(0, titleH - pad)),
            colLabels, rowLabels, images, captions);
    }

    private byte[] RenderRgb(out int width, out int height, CancellationToken ct)
    {
        using var font = new SKFont(EmbeddedFonts.DejaVuSans, Options.FontSize);
        using var titleFont = new SKFont(EmbeddedFonts.DejaVuSans, Options.TitleFontSize);
        font.Subpixel = true;
        titleFont.Subpixel = true;
        var layout = ComputeLayout(font, titleFont);
        width = layout.Width;
        height = layout.Height;

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(info);
        using (var canvas = new SKCanvas(bitmap))
        {
            var (br, bg, bb) = Options.Background;
            canvas.Clear(new SKColor(br, bg, bb));
            var (tr, tg, tb) = Options.TextColor;
            using var paint = new SKPaint { Color = new SKColor(tr, tg, tb), IsAntialias = true };

            if (!string.IsNullOrEmpty(Title))
                DrawCentered(canvas, Title, layout.TitleBand, titleFont, paint);
            for (int c = 0; c < Columns; c++)
                if (!string.IsNullOrEmpty(ColumnLabels[c])) DrawCentered(canvas, ColumnLabels[c]!, layout.ColumnLabelRects[c], font, paint);
            for (int r = 0; r < Rows; r++)
            {
                ct.ThrowIfCancellationRequested();
                if (!string.IsNullOrEmpty(RowLabels[r])) DrawCentered(canvas, RowLabels[r]!, layout.RowLabelRects[r], font, paint);
                for (int c = 0; c < Columns; c++)
                {
                    var cell = _cells[r, c];
                    if (cell is null) continue;
                    var rect = layout.ImageRects[r, c];
                    var rgba = UpscaleToRgba(cell, layout.Scale);
                    var imgInfo = new SKImageInfo(rect.Width, rect.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
                    using var img = SKImage.FromPixelCopy(imgInfo, rgba)
                        ?? throw new InvalidOperationException($"Skia could not wrap the image of cell ({r},{c}).");
                    canvas.DrawImage(img, rect.Left, rect.Top, new SKSamplingOptions(SKFilterMode.Nearest), null);
                    if (!string.IsNullOrEmpty(cell.Caption)) DrawCentered(canvas, cell.Caption!, layout.CaptionRects[r, c], font, paint);
                }
            }
            canvas.Flush();
        }
        LastLayout = layout;

        var px = bitmap.GetPixelSpan();
        var rgb = new byte[(long)width * height * 3];
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = px[i];
            rgb[j + 1] = px[i + 1];
            rgb[j + 2] = px[i + 2];
        }
        return rgb;
    }

    private static byte[] UpscaleToRgba(Cell cell, int scale)
    {
        int ow = cell.Width * scale, oh = cell.Height * scale;
        var dst = new byte[(long)ow * oh * 4];
        for (int y = 0; y < oh; y++)
        {
            int sy = y / scale;
            for (int x = 0; x < ow; x++)
            {
                int s = (sy * cell.Width + x / scale) * 3, d = (y * ow + x) * 4;
                dst[d] = cell.Rgb[s];
                dst[d + 1] = cell.Rgb[s + 1];
                dst[d + 2] = cell.Rgb[s + 2];
                dst[d + 3] = 255;
            }
        }
        return dst;
    }

    private static void DrawCentered(SKCanvas canvas, string text, SKRectI band, SKFont font, SKPaint paint)
    {
        if (band.Width <= 0 || band.Height <= 0) return;
        var m = font.Metrics;
        float baseline = band.Top + (band.Height - (m.Descent - m.Ascent)) / 2f - m.Ascent;
        canvas.Save();
        canvas.ClipRect(SKRect.Create(band.Left, band.Top, band.Width, band.Height));
        canvas.DrawText(text, band.MidX, baseline, SKTextAlign.Center, font, paint);
        canvas.Restore();
    }
}
