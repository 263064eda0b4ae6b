using DiffusionSteeringLens.Imaging;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Imaging;

public sealed class PilResamplerTests
{
    private static byte[] RandomBytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Theory]
    [InlineData(nameof(PilResampleFilter.Nearest))]
    [InlineData(nameof(PilResampleFilter.Bilinear))]
    [InlineData(nameof(PilResampleFilter.Bicubic))]
    public void SameSize_IsExactCopy(string filterName)
    {
        var filter = Enum.Parse<PilResampleFilter>(filterName); // the enum is internal: a public theory takes its name
        var src = RandomBytes(7 * 5 * 3, 1);
        var dst = PilResampler.Resize(src, 7, 5, 3, 7, 5, filter);
        Assert.Equal(src, dst);
        Assert.NotSame(src, dst);
    }

    [Fact]
    public void BilinearUpscale_HandComputedWeights()
    {
        // 2 -> 4: centres 0.25, 0.75, 1.25, 1.75; taps (1), (0.75, 0.25), (0.25, 0.75), (1).
        var dst = PilResampler.Resize(new byte[] { 0, 100 }, 2, 1, 1, 4, 1, PilResampleFilter.Bilinear);
        Assert.Equal(new byte[] { 0, 25, 75, 100 }, dst);
    }

    [Fact]
    public void BilinearDownscale_RoundsHalfUp()
    {
        // 2 -> 1: support widened to 2, weights 0.5/0.5; (10 + 21) / 2 = 15.5 -> 16 with the half offset.
        var dst = PilResampler.Resize(new byte[] { 10, 21 }, 2, 1, 1, 1, 1, PilResampleFilter.Bilinear);
        Assert.Equal(new byte[] { 16 }, dst);
    }

    [Fact]
    public void BicubicUpscale_OvershootsAndClips()
    {
        // 2 -> 4 with a = -0.5: normalised taps give -8.8 (clipped to 0), 20.7, 79.3 and 108.8 (kept: 109).
        var dst = PilResampler.Resize(new byte[] { 0, 100 }, 2, 1, 1, 4, 1, PilResampleFilter.Bicubic);
        Assert.Equal(new byte[] { 0, 21, 79, 109 }, dst);
        // Same axis vertically gives the same numbers.
        var vert = PilResampler.Resize(new byte[] { 0, 100 }, 1, 2, 1, 1, 4, PilResampleFilter.Bicubic);
        Assert.Equal(new byte[] { 0, 21, 79, 109 }, vert);
    }

    [Fact]
    public void Bicubic_ClipsAt255()
    {
        var dst = PilResampler.Resize(new byte[] { 255, 0 }, 2, 1, 1, 4, 1, PilResampleFilter.Bicubic);
        Assert.Equal(255, dst[0]);
        Assert.Equal(0, dst[3]);
    }

    [Fact]
    public void Nearest_UsesPillowPositions()
    {
        // 3 -> 2: step 1.5, positions 0.75 and 2.25 -> pixels 0 and 2.
        Assert.Equal(new byte[] { 1, 3 }, PilResampler.Resize(new byte[] { 1, 2, 3 }, 3, 1, 1, 2, 1, PilResampleFilter.Nearest));
        // 2 -> 5: step 0.4, positions 0.2, 0.6, 1.0, 1.4, 1.8 -> 0, 0, 1, 1, 1.
        Assert.Equal(new byte[] { 7, 7, 9, 9, 9 }, PilResampler.Resize(new byte[] { 7, 9 }, 2, 1, 1, 5, 1, PilResampleFilter.Nearest));
        Assert.Equal(new[] { 0, 1, 1, 2 }, PilResampler.NearestIndices(3, 4)); // 0.375, 1.125, 1.875, 2.625
    }

    [Theory]
    [InlineData(nameof(PilResampleFilter.Nearest))]
    [InlineData(nameof(PilResampleFilter.Bilinear))]
    [InlineData(nameof(PilResampleFilter.Bicubic))]
    public void OnePixel_UpscalesToConstant(string filterName)
    {
        var filter = Enum.Parse<PilResampleFilter>(filterName); // the enum is internal: a public theory takes its name
        var dst = PilResampler.Resize(new byte[] { 12, 200, 77 }, 1, 1, 3, 5, 3, filter);
        Assert.Equal(5 * 3 * 3, dst.Length);
        for (int i = 0; i < dst.Length; i += 3) Assert.Equal(new byte[] { 12, 200, 77 }, dst[i..(i + 3)]);
    }

    [Theory]
    [InlineData(nameof(PilResampleFilter.Bilinear))]
    [InlineData(nameof(PilResampleFilter.Bicubic))]
    public void DownscaleToOnePixel_AveragesConstantExactly(string filterName)
    {
        var filter = Enum.Parse<PilResampleFilter>(filterName); // the enum is internal: a public theory takes its name
        var src = Enumerable.Repeat((byte)201, 9 * 4).ToArray();
        Assert.Equal(new byte[] { 201 }, PilResampler.Resize(src, 9, 4, 1, 1, 1, filter));
    }

    [Theory]
    [InlineData(nameof(PilResampleFilter.Bilinear), 37, 23, 11, 5)]
    [InlineData(nameof(PilResampleFilter.Bicubic), 37, 23, 11, 5)]
    [InlineData(nameof(PilResampleFilter.Bicubic), 5, 4, 19, 13)]
    [InlineData(nameof(PilResampleFilter.Bicubic), 224, 300, 224, 224)]
    public void ConstantImage_StaysConstant(string filterName, int w, int h, int ow, int oh)
    {
        var filter = Enum.Parse<PilResampleFilter>(filterName); // the enum is internal: a public theory takes its name
        var src = Enumerable.Repeat((byte)97, w * h * 3).ToArray();
        var dst = PilResampler.Resize(src, w, h, 3, ow, oh, filter);
        Assert.All(dst, v => Assert.Equal(97, v));
    }

    [Fact]
    public void OnlyChangedAxisIsResampled()
    {
        // Width unchanged: rows are filtered vertically only, so every column is processed independently.
        var src = RandomBytes(6 * 9, 3);
        var dst = PilResampler.Resize(src, 6, 9, 1, 6, 4, PilResampleFilter.Bicubic);
        for (int x = 0; x < 6; x++)
        {
            var col = Enumerable.Range(0, 9).Select(y => src[y * 6 + x]).ToArray();
            var colOut = PilResampler.Resize(col, 1, 9, 1, 1, 4, PilResampleFilter.Bicubic);
            Assert.Equal(colOut, Enumerable.Range(0, 4).Select(y => dst[y * 6 + x]).ToArray());
        }
    }

    [Fact]
    public void Tensor_Overload_MatchesArrayVersion()
    {
        var src = RandomBytes(10 * 13 * 3, 5);
        using var t = torch.tensor(src, new long[] { 10, 13, 3 });
        using var r = PilResampler.Resize(t, 6, 4, PilResampleFilter.Bicubic);
        Assert.Equal(new long[] { 4, 6, 3 }, r.shape);
        Assert.Equal(PilResampler.Resize(src, 13, 10, 3, 6, 4, PilResampleFilter.Bicubic), r.bytes.ToArray());
    }

    [Fact]
    public void BadArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => PilResampler.Resize(new byte[5], 2, 1, 3, 1, 1, PilResampleFilter.Bilinear));
        Assert.Throws<ArgumentException>(() => PilResampler.Resize(new byte[6], 2, 1, 3, 0, 1, PilResampleFilter.Bilinear));
        Assert.Throws<ArgumentException>(() => PilResampler.Resize(new byte[6], 2, 1, 3, 1, 1, (PilResampleFilter)1));
        using var f = torch.zeros(4, 4, 3);
        var ex = Assert.Throws<ArgumentException>(() => PilResampler.Resize(f, 2, 2, PilResampleFilter.Bicubic));
        Assert.Contains("[4,4,3]", ex.Message);
    }
}
