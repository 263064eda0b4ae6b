using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Imaging;

public sealed class ClipImageProcessorTests
{
    private readonly ITestOutputHelper _out;
    public ClipImageProcessorTests(ITestOutputHelper output) => _out = output;

    private static string Folder => Fixtures.Golden("clip_vision");

    private static int MaxAbsDiffUint8(torch.Tensor expected, torch.Tensor actual, string label)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{label}: shape [{string.Join(",", actual.shape)}] != expected [{string.Join(",", expected.shape)}]");
        Assert.Equal(torch.uint8, actual.dtype);
        using var d = expected.to(torch.int32).sub(actual.to(torch.int32)).abs().max();
        return d.item<int>();
    }

    [Fact]
    [Trait("Category", "Golden")]
    public void Decode_MatchesPilImageExactly()
    {
        using var f = SafetensorsFile.Open(Path.Combine(Folder, "cases.safetensors"));
        using var expected = f.Load("preprocess.image_uint8");
        using var actual = ImageIO.LoadRgb(Path.Combine(Folder, "image_53x40.png"));
        TensorAssert.Equal(expected, actual, "preprocess.image_uint8");
    }

    [Fact]
    [Trait("Category", "Golden")]
    public void Stages_MatchTransformers()
    {
        using var f = SafetensorsFile.Open(Path.Combine(Folder, "cases.safetensors"));
        var proc = ClipImageProcessor.Load(Folder);
        using var image = f.Load("preprocess.image_uint8");
        using var trace = proc.Trace(image);

        using var resized = f.Load("preprocess.resized_uint8");
        int resizeDiff = MaxAbsDiffUint8(resized, trace.Resized, "resized");
        using var cropped = f.Load("preprocess.cropped_uint8");
        int cropDiff = MaxAbsDiffUint8(cropped, trace.Cropped, "cropped");
        using var pixels = f.Load("preprocess.pixel_values");
        double pixErr = TensorAssert.CloseAbsolute(pixels, trace.PixelValues, 1e-2, "pixel_values");
        _out.WriteLine($"max |resized diff| = {resizeDiff}, max |cropped diff| = {cropDiff}, max |pixel_values err| = {pixErr:E3}");

        // The resampler is bit-exact with Pillow, so nothing short of equality is accepted (the brief allows ±1).
        Assert.True(resizeDiff == 0, $"resized differs by {resizeDiff} levels");
        Assert.True(cropDiff == 0, $"cropped differs by {cropDiff} levels");
        // Same float32 operations as numpy: the result is expected to be identical, not just within 1e-2.
        Assert.True(pixErr <= 1e-6, $"pixel_values max abs error {pixErr:E3}");
        Assert.Equal(torch.float32, trace.PixelValues.dtype);
    }

    [Fact]
    [Trait("Category", "Golden")]
    public void PreprocessFile_EqualsTraceAndBatches()
    {
        var proc = ClipImageProcessor.Load(Folder);
        var png = Path.Combine(Folder, "image_53x40.png");
        using var one = proc.Preprocess(png);
        Assert.Equal(new long[] { 1, 3, 16, 16 }, one.shape);
        using var batch = proc.Preprocess(new[] { png, png });
        Assert.Equal(new long[] { 2, 3, 16, 16 }, batch.shape);
        using var b1 = batch[1];
        using var o0 = one[0];
        using var eq = b1.eq(o0).all();
        Assert.True(eq.item<bool>());
        using var f = SafetensorsFile.Open(Path.Combine(Folder, "cases.safetensors"));
        using var pixels = f.Load("preprocess.pixel_values");
        TensorAssert.CloseAbsolute(pixels, one, 1e-2, "pixel_values (file path)");
    }

    [Theory]
    [InlineData(40, 53, 16, 16, 21)]
    [InlineData(53, 40, 16, 21, 16)]
    [InlineData(224, 224, 224, 224, 224)]
    [InlineData(480, 640, 224, 224, 298)]
    [InlineData(100, 33, 16, 48, 16)]
    public void ShortestEdgeSize_TruncatesLongSide(int h, int w, int s, int eh, int ew)
    {
        Assert.Equal((eh, ew), ClipImageProcessor.ShortestEdgeSize(h, w, s));
    }

    [Fact]
    public void CenterCrop_UsesFloorOffsets()
    {
        var proc = new ClipImageProcessor(new ClipImageProcessorConfig { CropHeight = 2, CropWidth = 3 });
        using var img = torch.arange(5 * 6 * 3, torch.int32).remainder(256).to(torch.uint8).reshape(5, 6, 3);
        using var crop = proc.CenterCrop(img);
        // top = (5-2)//2 = 1, left = (6-3)//2 = 1
        using var expected = img.narrow(0, 1, 2).narrow(1, 1, 3);
        TensorAssert.Equal(expected.contiguous(), crop, "crop");
    }

    [Fact]
    public void CenterCrop_PadsSmallImageWithZeros()
    {
        var proc = new ClipImageProcessor(new ClipImageProcessorConfig { CropHeight = 4, CropWidth = 4 });
        using var img = torch.full(new long[] { 2, 2, 3 }, 7, torch.uint8);
        using var crop = proc.CenterCrop(img);
        Assert.Equal(new long[] { 4, 4, 3 }, crop.shape);
        Assert.Equal(7 * 4 * 3, crop.to(torch.int64).sum().item<long>());
        Assert.Equal(7, crop[1, 1, 0].item<byte>());
        Assert.Equal(0, crop[0, 0, 0].item<byte>());
    }

    [Fact]
    public void CenterCrop_OddDeficitThrowsClearly()
    {
        var proc = new ClipImageProcessor(new ClipImageProcessorConfig { CropHeight = 5, CropWidth = 5 });
        using var img = torch.zeros(new long[] { 2, 5, 3 }, torch.uint8);
        var ex = Assert.Throws<ArgumentException>(() => proc.CenterCrop(img));
        Assert.Contains("2x5", ex.Message);
    }

    [Fact]
    public void Preprocess_RejectsWrongTensor()
    {
        var proc = new ClipImageProcessor(ClipImageProcessorConfig.ForResolution(16));
        using var chw = torch.zeros(3, 20, 20);
        var ex = Assert.Throws<ArgumentException>(() => proc.Preprocess(chw));
        Assert.Contains("[3,20,20]", ex.Message);
    }

    [Fact]
    public void RescaleAndNormalize_MatchesFormula()
    {
        var cfg = ClipImageProcessorConfig.ForResolution(2);
        var proc = new ClipImageProcessor(cfg);
        using var img = torch.tensor(new byte[] { 0, 128, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90 }, new long[] { 2, 2, 3 });
        using var x = proc.RescaleAndNormalize(img);
        Assert.Equal(new long[] { 3, 2, 2 }, x.shape);
        double expected = (255 / 255.0 - cfg.ImageMean[2]) / cfg.ImageStd[2];
        Assert.Equal(expected, x[2, 0, 0].item<float>(), 5);
    }
}
