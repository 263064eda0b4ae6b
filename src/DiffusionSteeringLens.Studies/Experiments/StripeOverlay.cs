using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Imaging;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// The overlay study's default overlay for image sets that bring none (folders of images): black/white diagonal stripes
/// composed into the bottom-right quadrant.
/// </summary>
internal static class StripeOverlay
{
    /// <summary>Pictures [B, 3, H, W] in [0, 1] with the stripes composed in (a new CPU tensor the caller owns).</summary>
    public static torch.Tensor Compose(torch.Tensor pictures)
    {
        using var scope = torch.NewDisposeScope();
        int h = (int)pictures.shape[2], w = (int)pictures.shape[3], side = Math.Max(h, w);
        var stripes = ImageIO.ToFloatChw(Stripes(side)).narrow(1, 0, h).narrow(2, 0, w);
        var mask = RegionMask(side, 0.5, 0.5, 0.5, 0.5).narrow(0, 0, h).narrow(1, 0, w);
        return OverlayStudy.Compose(pictures.cpu(), stripes, mask).MoveToOuterDisposeScope();
    }

    /// <summary>Black/white diagonal stripes over the whole image, RGB uint8 <c>[size, size, 3]</c>.</summary>
    public static torch.Tensor Stripes(int size)
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

    /// <summary>Float mask <c>[size, size]</c>: 1 inside the rectangle given as fractions of the side (left, top, width, height).</summary>
    public static torch.Tensor RegionMask(int size, double left, double top, double width, double height)
    {
        var mask = new float[size * size];
        int x0 = (int)Math.Round(left * size), y0 = (int)Math.Round(top * size);
        int x1 = (int)Math.Round((left + width) * size), y1 = (int)Math.Round((top + height) * size);
        for (int y = Math.Max(0, y0); y < Math.Min(size, y1); y++)
            for (int x = Math.Max(0, x0); x < Math.Min(size, x1); x++) mask[y * size + x] = 1f;
        return torch.tensor(mask, new long[] { size, size });
    }
}
