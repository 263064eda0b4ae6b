using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.Tests.TestSupport;
using SkiaSharp;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Imaging;

public sealed class ImageGridTests
{
    private static bool AnyNonBackground(torch.Tensor rgb, SKRectI r)
    {
        Assert.True(r.Width > 0 && r.Height > 0, $"empty rect {r}");
        using var region = rgb.narrow(0, r.Top, r.Height).narrow(1, r.Left, r.Width);
        using var dark = region.lt(250).any();
        return dark.item<bool>();
    }

    [Fact]
    public void Save_WritesLabelledGridWithExactNearestUpscale()
    {
        var grid = new ImageGrid(2, 2, new ImageGridOptions { MinCellSize = 32 })
        {
            Title = "Diffusion Lens",
        };
        grid.RowLabels[0] = "layer 0";
        grid.RowLabels[1] = "layer 1";
        grid.ColumnLabels[0] = "A";
        grid.ColumnLabels[1] = "B";
        using var small = torch.rand(new long[] { 3, 8, 8 }, generator: new torch.Generator(1));
        using var u8 = torch.randint(0, 256, new long[] { 8, 8, 3 }, torch.uint8, generator: new torch.Generator(2));
        grid.SetImage(0, 0, small, "x");
        grid.SetImage(0, 1, u8);
        grid.SetImage(1, 1, small, "caption");

        var path = Path.Combine(Fixtures.TempFolder(), "grid.png");
        grid.Save(path);
        var layout = grid.LastLayout!;
        Assert.Equal(4, layout.Scale);
        using var png = ImageIO.LoadRgb(path);
        Assert.Equal(new long[] { layout.Height, layout.Width, 3 }, png.shape);

        Assert.True(AnyNonBackground(png, layout.TitleBand), "title band is blank");
        Assert.True(AnyNonBackground(png, layout.RowLabelRects[0]), "row label 0 is blank");
        Assert.True(AnyNonBackground(png, layout.ColumnLabelRects[1]), "column label 1 is blank");
        Assert.True(AnyNonBackground(png, layout.CaptionRects[1, 1]), "caption is blank");
        Assert.False(AnyNonBackground(png, layout.CaptionRects[0, 1]), "caption area of an uncaptioned cell is not blank");
        Assert.Equal(255, png[0, 0, 0].item<byte>());

        // Image cells: nearest ×4 of the source pixels, exactly.
        var r = layout.ImageRects[0, 1];
        using var cell = png.narrow(0, r.Top, r.Height).narrow(1, r.Left, r.Width).contiguous();
        using var expected = u8.repeat_interleave(4, 0).repeat_interleave(4, 1).contiguous();
        TensorAssert.Equal(expected, cell, "cell (0,1)");
        var r2 = layout.ImageRects[1, 1];
        using var cell2 = png.narrow(0, r2.Top, r2.Height).narrow(1, r2.Left, r2.Width).contiguous();
        using var smallU8 = ImageIO.ToUint8Hwc(small);
        using var expected2 = smallU8.repeat_interleave(4, 0).repeat_interleave(4, 1).contiguous();
        TensorAssert.Equal(expected2, cell2, "cell (1,1)");
    }

    [Fact]
    public void Render_EmptyGridOrBadCell_Throws()
    {
        var grid = new ImageGrid(1, 2);
        Assert.Throws<InvalidOperationException>(() => grid.Render());
        using var img = torch.zeros(new long[] { 3, 4, 4 });
        Assert.Throws<ArgumentOutOfRangeException>(() => grid.SetImage(0, 2, img));
        using var bad = torch.zeros(new long[] { 4, 4 });
        Assert.Throws<ArgumentException>(() => grid.SetImage(0, 0, bad));
    }

    [Fact]
    public void Render_WithoutLabels_IsImagesOnPadding()
    {
        var grid = new ImageGrid(1, 2, new ImageGridOptions { Padding = 2, Upscale = 2 });
        using var a = torch.zeros(new long[] { 3, 3, 5 });
        using var b = torch.full(new long[] { 3, 3, 5 }, 0.5f);
        grid.SetImage(0, 0, a);
        grid.SetImage(0, 1, b);
        using var rgb = grid.Render();
        // width = 2 + 2·(10 + 2) = 26, height = 2 + (6 + 2) = 10
        Assert.Equal(new long[] { 10, 26, 3 }, rgb.shape);
        Assert.Equal(0, rgb[2, 2, 0].item<byte>());
        Assert.Equal(128, rgb[2, 14, 0].item<byte>());
        Assert.Equal(128, rgb[7, 23, 2].item<byte>());
        Assert.Equal(255, rgb[7, 24, 2].item<byte>());
        Assert.Equal(255, rgb[0, 0, 1].item<byte>());
    }
}
