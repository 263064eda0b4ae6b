using DiffusionSteeringLens.Imaging;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// Procedurally drawn inputs for the demo (no image files needed): a coloured shape on a plain background, a striped
/// overlay and the mask of the region it covers.
/// </summary>
internal static class DemoImages
{
    /// <summary>A red disc on a light-blue background, RGB uint8 <c>[size, size, 3]</c>.</summary>
    public static torch.Tensor Disc(int size = 64) => Shape(size, (x, y) => x * x + y * y <= 0.36, (220, 40, 40), (170, 200, 235));

    /// <summary>A green square on a light-yellow background, RGB uint8 <c>[size, size, 3]</c>.</summary>
    public static torch.Tensor Square(int size = 64) => Shape(size, (x, y) => Math.Abs(x) <= 0.5 && Math.Abs(y) <= 0.5, (40, 160, 60), (240, 235, 190));

    /// <summary>Black/white diagonal stripes over the whole image, RGB uint8 <c>[size, size, 3]</c>.</summary>
    public static torch.Tensor Stripes(int size = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 4);
        var data = new byte[size * size * 3];
        int period = Math.Max(2, size / 8);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                byte v = ((x + y) / (period / 2.0) % 2) < 1 ? (byte)250 : (byte)10;
                for (int c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = v;
            }
        return Uint8Pixels.FromArray(data, size, size, 3);
    }

    /// <summary>
    /// Float mask <c>[size, size]</c>: 1 inside the rectangle given as fractions of the side (left, top, width, height).
    /// </summary>
    public static torch.Tensor RegionMask(int size, double left = 0.5, double top = 0.5, double width = 0.5, double height = 0.5)
    {
        var mask = new float[size * size];
        int x0 = (int)Math.Round(left * size), y0 = (int)Math.Round(top * size);
        int x1 = (int)Math.Round((left + width) * size), y1 = (int)Math.Round((top + height) * size);
        for (int y = Math.Max(0, y0); y < Math.Min(size, y1); y++)
            for (int x = Math.Max(0, x0); x < Math.Min(size, x1); x++) mask[y * size + x] = 1f;
        using var flat = torch.tensor(mask);
        return flat.view(size, size); // the view keeps the storage alive
    }

    private static torch.Tensor Shape(int size, Func<double, double, bool> inside, (byte R, byte G, byte B) fg, (byte R, byte G, byte B) bg)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 4);
        var data = new byte[size * size * 3];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                // Pixel centres in [-1, 1].
                double u = (x + 0.5) / size * 2 - 1, v = (y + 0.5) / size * 2 - 1;
                var c = inside(u, v) ? fg : bg;
                int o = (y * size + x) * 3;
                data[o] = c.R; data[o + 1] = c.G; data[o + 2] = c.B;
            }
        return Uint8Pixels.FromArray(data, size, size, 3);
    }
}
