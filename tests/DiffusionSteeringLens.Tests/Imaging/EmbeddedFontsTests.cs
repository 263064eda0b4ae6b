using DiffusionSteeringLens.Imaging;
using SkiaSharp;

namespace DiffusionSteeringLens.Tests.Imaging;

public sealed class EmbeddedFontsTests
{
    [Fact]
    public void DejaVuSans_LoadsFromEmbeddedResource()
    {
        using (var s = EmbeddedFonts.OpenDejaVuSans())
        {
            var head = new byte[4];
            s.ReadExactly(head);
            Assert.Equal(new byte[] { 0, 1, 0, 0 }, head); // TrueType sfnt version
            Assert.True(s.Length > 100_000);
        }
        var tf = EmbeddedFonts.DejaVuSans;
        Assert.NotNull(tf);
        Assert.Equal("DejaVu Sans", tf.FamilyName);
        Assert.Same(tf, EmbeddedFonts.DejaVuSans);
        using var font = new SKFont(tf, 14);
        Assert.True(font.MeasureText("Layer 12") > 20);
        Assert.NotEqual(0, font.GetGlyph('A'));
    }
}
