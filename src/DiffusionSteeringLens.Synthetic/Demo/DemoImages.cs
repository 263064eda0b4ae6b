using TorchSharp;

namespace DiffusionSteeringLens.Synthetic;

/// <summary>
/// Procedurally drawn inputs for tests and examples (no image files needed): a coloured shape on a plain background.
/// </summary>
internal static class DemoImages
{
    /// <summary>A red disc on a light-blue background, RGB uint8 <c>[size, size, 3]</c>.</summary>
    public static torch.Tensor Disc(int size = 64) => Shape(size, (x, y) => x * x + y * y <= 0.36, (220, 40, 40), (170, 200, 235));

    /// <summary>A green square on a light-yellow background, RGB uint8 <c>[size, size, 3]</c>.</summary>
    public static torch.Tensor Square(int size = 64) => Shape(size, (x, y) => Math.Abs(x) <= 0.5 && Math.Abs(y) <= 0.5, (40, 160, 60), (240, 235, 190));

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
        return torch.tensor(data, new long[] { size, size, 3 });
    }
}
