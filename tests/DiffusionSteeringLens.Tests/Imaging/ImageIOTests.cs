using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.Tests.TestSupport;
using SkiaSharp;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Imaging;

public sealed class ImageIOTests
{
    [Fact]
    public void Png_RoundTrip_Uint8_IsExact()
    {
        var bytes = new byte[9 * 7 * 3];
        new Random(11).NextBytes(bytes);
        using var img = torch.tensor(bytes, new long[] { 9, 7, 3 });
        var path = Path.Combine(Fixtures.TempFolder(), "sub", "rt.png");
        ImageIO.SavePng(img, path);
        using var back = ImageIO.LoadRgb(path);
        TensorAssert.Equal(img, back, "round trip");
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));
    }

    [Fact]
    public void Float_Conversions_FollowRoundClampRule()
    {
        using var x = torch.tensor(new float[] { -0.5f, 0f, 0.5f, 1f, 2f, 0.3f }, new long[] { 3, 1, 2 });
        using var u8 = ImageIO.ToUint8Hwc(x);
        Assert.Equal(new long[] { 1, 2, 3 }, u8.shape);
        // HWC order: pixel0 = (c0[0], c1[0], c2[0]) = (-0.5, 0.5, 2), pixel1 = (0, 1, 0.3)
        // 0.5·255 = 127.5 rounds half to even -> 128; 0.3·255 = 76.5 (float32 76.49999) -> 76.
        Assert.Equal(new byte[] { 0, 128, 255, 0, 255, 76 }, u8.bytes.ToArray());
        using var f = ImageIO.ToFloatChw(u8);
        Assert.Equal(new long[] { 3, 1, 2 }, f.shape);
        Assert.Equal(128 / 255f, f[1, 0, 0].item<float>());
    }

    [Fact]
    public void SavePng_FloatAndBatch_DecodeToRoundedPixels()
    {
        using var batch = torch.rand(new long[] { 2, 3, 5, 6 }, generator: new torch.Generator(7));
        var dir = Fixtures.TempFolder();
        ImageIO.SavePng(batch, 1, Path.Combine(dir, "b1.png"));
        using var item = batch[1];
        using var expected = ImageIO.ToUint8Hwc(item);
        using var back = ImageIO.LoadRgb(Path.Combine(dir, "b1.png"));
        TensorAssert.Equal(expected, back, "batch item");
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageIO.SavePng(batch, 2, Path.Combine(dir, "b2.png")));
    }

    [Fact]
    public void Decode_DropsAlphaLikePilConvertRgb()
    {
        var rgba = new byte[] { 200, 100, 50, 0, 10, 20, 30, 128 };
        var info = new SKImageInfo(2, 1, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        byte[] png;
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(rgba, System.Runtime.InteropServices.GCHandleType.Pinned);
        try
        {
            using var pm = new SKPixmap(info, handle.AddrOfPinnedObject(), 8);
            using var data = pm.Encode(SKPngEncoderOptions.Default);
            Assert.NotNull(data);
            png = data!.ToArray();
        }
        finally { handle.Free(); }
        using var rgb = ImageIO.DecodeRgb(png, "alpha.png");
        Assert.Equal(new byte[] { 200, 100, 50, 10, 20, 30 }, rgb.bytes.ToArray());
    }

    [Fact]
    public void Jpeg_DecodesToRgb()
    {
        var rgba = new byte[16 * 8 * 4];
        for (int i = 0; i < rgba.Length; i += 4) { rgba[i] = 200; rgba[i + 1] = 60; rgba[i + 2] = 20; rgba[i + 3] = 255; }
        var info = new SKImageInfo(16, 8, SKColorType.Rgba8888, SKAlphaType.Opaque);
        byte[] jpeg;
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(rgba, System.Runtime.InteropServices.GCHandleType.Pinned);
        try
        {
            using var pm = new SKPixmap(info, handle.AddrOfPinnedObject(), 16 * 4);
            using var data = pm.Encode(SKEncodedImageFormat.Jpeg, 95);
            Assert.NotNull(data);
            jpeg = data!.ToArray();
        }
        finally { handle.Free(); }
        Assert.Equal(0xFF, jpeg[0]);
        Assert.Equal(0xD8, jpeg[1]);
        var path = Path.Combine(Fixtures.TempFolder(), "c.jpg");
        File.WriteAllBytes(path, jpeg);
        using var rgb = ImageIO.LoadRgb(path);
        Assert.Equal(new long[] { 8, 16, 3 }, rgb.shape);
        using var mean = rgb.to(torch.float32).mean(new long[] { 0, 1 });
        Assert.InRange(mean[0].item<float>(), 197f, 203f);
        Assert.InRange(mean[1].item<float>(), 57f, 63f);
        Assert.InRange(mean[2].item<float>(), 17f, 23f);
    }

    [Fact]
    public void MissingFile_ThrowsFileNotFoundWithPath()
    {
        var path = Path.Combine(Fixtures.TempFolder(), "nope.png");
        var ex = Assert.Throws<FileNotFoundException>(() => ImageIO.LoadRgb(path));
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void GarbageBytes_ThrowImageDecodeExceptionNamingFile()
    {
        var path = Path.Combine(Fixtures.TempFolder(), "garbage.png");
        File.WriteAllBytes(path, System.Text.Encoding.ASCII.GetBytes("this is not an image at all"));
        var ex = Assert.Throws<ImageDecodeException>(() => ImageIO.LoadRgb(path));
        Assert.Equal(path, ex.FilePath);
        Assert.Contains(path, ex.Message);
        File.WriteAllBytes(path, Array.Empty<byte>());
        Assert.Throws<ImageDecodeException>(() => ImageIO.LoadRgb(path));
    }

    [Fact]
    public void TruncatedPng_Throws()
    {
        using var img = torch.randint(0, 256, new long[] { 64, 64, 3 }, torch.uint8, generator: new torch.Generator(3));
        var png = ImageIO.EncodePng(img);
        var ex = Assert.Throws<ImageDecodeException>(() => ImageIO.DecodeRgb(png.AsSpan(0, png.Length / 2), "half.png"));
        Assert.Contains("half.png", ex.Message);
    }

    [Fact]
    public void WrongShapeOrDtype_ThrowsAndLeavesNoFile()
    {
        var path = Path.Combine(Fixtures.TempFolder(), "bad.png");
        using var chw = torch.zeros(new long[] { 4, 5, 6 });
        var ex = Assert.Throws<ArgumentException>(() => ImageIO.SavePng(chw, path));
        Assert.Contains("[4,5,6]", ex.Message);
        using var i32 = torch.zeros(new long[] { 5, 6, 3 }, torch.int32);
        Assert.Throws<ArgumentException>(() => ImageIO.SavePng(i32, path));
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!));
        using var u8chw = torch.zeros(new long[] { 3, 5, 6 }, torch.uint8);
        Assert.Throws<ArgumentException>(() => ImageIO.ToFloatChw(u8chw));
        using var nan = torch.full(new long[] { 3, 2, 2 }, float.NaN);
        Assert.Throws<ArgumentException>(() => ImageIO.ToUint8Hwc(nan));
    }

    [Fact]
    public void SavePng_Overwrites_Atomically()
    {
        var path = Path.Combine(Fixtures.TempFolder(), "o.png");
        using var a = torch.zeros(new long[] { 2, 2, 3 }, torch.uint8);
        using var b = torch.full(new long[] { 2, 2, 3 }, 9, torch.uint8);
        ImageIO.SavePng(a, path);
        ImageIO.SavePng(b, path);
        using var back = ImageIO.LoadRgb(path);
        TensorAssert.Equal(b, back, "overwrite");
    }
}
