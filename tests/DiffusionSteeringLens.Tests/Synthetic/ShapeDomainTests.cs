using DiffusionSteeringLens.Synthetic;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Tests.Synthetic;

public sealed class ShapeDomainTests
{
    [Fact]
    public void SameSeedSameImagesOtherSeedOtherImages()
    {
        var a = ShapeDomain.Sample(64, seed: 7);
        var b = ShapeDomain.Sample(64, seed: 7);
        var c = ShapeDomain.Sample(64, seed: 8);
        Assert.Equal(a.Select(x => x.ToString()), b.Select(x => x.ToString()));
        Assert.Equal(a.SelectMany(x => x.Background), b.SelectMany(x => x.Background));
        using var ia = ShapeDomain.Render(a);
        using var ib = ShapeDomain.Render(b);
        using var ic = ShapeDomain.Render(c);
        Assert.True(ia.eq(ib).all().item<bool>());
        Assert.False(ia.eq(ic).all().item<bool>());
        Assert.Equal(new long[] { 64, 3, 32, 32 }, ia.shape);
        Assert.Equal(ScalarType.Float32, ia.dtype);
        Assert.True(ia.min().item<float>() >= 0 && ia.max().item<float>() <= 1);
    }

    [Fact]
    public void SamplesCoverEveryFactor()
    {
        var a = ShapeDomain.Sample(2000, seed: 3);
        Assert.Equal(4, a.Select(x => x.Shape).Distinct().Count());
        Assert.Equal(7, a.Select(x => x.Color).Distinct().Count());
        Assert.Equal(3, a.Select(x => x.Size).Distinct().Count());
        Assert.Equal(5, a.Select(x => x.OffsetX).Distinct().Count());
        Assert.InRange(a.Count(x => x.Overlay) / 2000.0, 0.45, 0.55);
        Assert.All(a, x => Assert.All(x.Background, v => Assert.InRange(v, 0.18f, 0.67f)));
    }

    [Fact]
    public void PixelsAgreeWithAttributes()
    {
        var attrs = ShapeDomain.Sample(200, seed: 11);
        using var images = ShapeDomain.Render(attrs);
        using var overlayMask = ShapeDomain.OverlayMask();
        for (int i = 0; i < attrs.Count; i++)
        {
            var a = attrs[i];
            using var img = images[i];
            // Corner pixel = background; the pixel at the shape centre = the palette colour (every class covers its centre).
            var corner = img[.., 0, 0].data<float>().ToArray();
            for (int c = 0; c < 3; c++) Assert.Equal(a.Background[c], corner[c], 5);
            int cx = (int)Math.Floor(a.CenterX), cy = (int)Math.Floor(a.CenterY);
            var centre = img[.., cy, cx].data<float>().ToArray();
            for (int c = 0; c < 3; c++) Assert.Equal(ShapePalette.Rgb[a.Color][c], centre[c], 5);
            // The stripes are white exactly when the overlay is on.
            using var stripes = img.masked_select(overlayMask.to(ScalarType.Bool).unsqueeze(0).expand(3, 32, 32));
            Assert.Equal(a.Overlay, stripes.min().item<float>() == 1f);
        }
    }

    [Fact]
    public void CoverageAreaMatchesTheGeometry()
    {
        double s = 10;
        using var cov = ShapeDomain.Coverage(new[] { ShapeKind.Circle, ShapeKind.Square, ShapeKind.Triangle, ShapeKind.Cross },
            Enumerable.Repeat(s, 4).ToArray(), Enumerable.Repeat(16.0, 4).ToArray(), Enumerable.Repeat(16.0, 4).ToArray());
        var area = cov.sum(new long[] { 1, 2 }).data<float>().ToArray();
        Assert.Equal(Math.PI * s * s, area[0], 0.03 * Math.PI * s * s);
        Assert.Equal(Math.Pow(1.7 * s, 2), area[1], 0.03 * Math.Pow(1.7 * s, 2));
        Assert.Equal(0.62 * 1.8 * s * 1.8 * s, area[2], 0.05 * 0.62 * 1.8 * s * 1.8 * s);   // base 2·0.62·1.8s, height 1.8s
        double crossArea = 2 * (0.7 * s * 2 * s) - 0.7 * s * 0.7 * s;
        Assert.Equal(crossArea, area[3], 0.03 * crossArea);
    }

    [Fact]
    public void OverlayCompositionAndReference()
    {
        var attrs = ShapeDomain.Sample(8, seed: 5, overlayProbability: 0);
        using var plain = ShapeDomain.Render(attrs);
        using var composed = ShapeDomain.ComposeOverlay(plain);
        using var withFlag = ShapeDomain.Render(attrs.Select(a => a with { Overlay = true }).ToArray());
        Assert.True(composed.eq(withFlag).all().item<bool>());
        using var reference = ShapeDomain.RenderOverlayOnly();
        Assert.Equal(new long[] { 1, 3, 32, 32 }, reference.shape);
        Assert.Equal(1f, reference[0, 0, 24, 27].item<float>());
        Assert.Equal(0.45f, reference[0, 0, 25, 27].item<float>(), 5);
        Assert.Equal(0.45f, reference[0, 1, 5, 5].item<float>(), 5);
    }
}
