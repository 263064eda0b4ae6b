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

    // Bound for PreprocessFloat vs the uint8 path: the inputs differ by ≤ 1 ulp (float32 u/255 vs float32(u·(1/255))
    // in double; ≤ 2⁻²⁴ below 1). Subtracting the same mean keeps that and adds ≤ 1 ulp of |x − m| < 1 (≤ 2⁻²⁴);
    // dividing by std scales it by 1/std and adds ≤ 1 ulp of |y| (≤ 2⁻²³·|y|).
    private static double FloatPathBound(ClipImageProcessorConfig cfg, torch.Tensor reference)
    {
        using var absMax = reference.abs().max();
        return Math.Pow(2, -23) / cfg.ImageStd.Min() + Math.Pow(2, -23) * Math.Max(1.0, absMax.item<float>());
    }

    [Fact]
    public void PreprocessFloat_EqualsTheUint8PathOnEveryByteValue()
    {
        var proc = ClipImageProcessor.Load(Folder);                  // shortest edge 16, crop 16: a 16x16 picture is not resampled
        using var scope = torch.NewDisposeScope();
        // 16·16 = 256 pixels per channel: every uint8 value once, shifted per channel.
        var values = torch.arange(256, torch.int32).view(16, 16);
        var rgb = torch.stack(new[] { values, (values + 85) % 256, (values + 170) % 256 }, 2).to(torch.uint8);
        var viaImage = proc.Preprocess(rgb);                         // [1, 3, 16, 16]
        var picture = ImageIO.ToFloatChw(rgb).unsqueeze(0);          // [1, 3, 16, 16] in [0, 1]
        var viaFloat = proc.PreprocessFloat(picture);
        Assert.Equal(torch.float32, viaFloat.dtype);
        double err = TensorAssert.CloseAbsolute(viaImage, viaFloat, FloatPathBound(proc.Config, viaImage), "float path vs uint8 path");
        _out.WriteLine($"every byte value: max |float − uint8 path| {err:E2}");
    }

    [Fact]
    [Trait("Category", "Golden")]
    public void PreprocessFloat_OfTheResizedCroppedPictureEqualsTheUint8Path()
    {
        var proc = ClipImageProcessor.Load(Folder);
        using var scope = torch.NewDisposeScope();
        var rgb = ImageIO.LoadRgb(Path.Combine(Folder, "image_53x40.png"));
        var viaImage = proc.Preprocess(rgb);
        // The picture the pixels show (as PreparedInput.FromRgb makes it), in [0, 1].
        var picture = ImageIO.ToFloatChw(proc.CenterCrop(proc.Resize(rgb))).unsqueeze(0);
        var viaFloat = proc.PreprocessFloat(picture);
        double err = TensorAssert.CloseAbsolute(viaImage, viaFloat, FloatPathBound(proc.Config, viaImage), "float path vs uint8 path (53x40)");
        _out.WriteLine($"53x40 image: max |float − uint8 path| {err:E2}");
    }

    [Fact]
    public void PreprocessFloat_IsBitEqualToTheInlineNormalisationItReplaces()
    {
        // The formula ShippedShapesModel.Preprocess, EncoderImageSimilarity and Dsl.Examples used before.
        var proc = new ClipImageProcessor(new ClipImageProcessorConfig { DoResize = false, DoCenterCrop = false });
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(16);
        var pictures = torch.rand(new long[] { 2, 3, 20, 24 }, generator: g);
        var mean = torch.tensor(ClipImageProcessorConfig.OpenAiClipMean.Select(v => (float)v).ToArray()).view(1, 3, 1, 1);
        var std = torch.tensor(ClipImageProcessorConfig.OpenAiClipStd.Select(v => (float)v).ToArray()).view(1, 3, 1, 1);
        TensorAssert.Equal((pictures - mean) / std, proc.PreprocessFloat(pictures), "PreprocessFloat vs (x − mean) / std");
    }

    [Fact]
    public void PreprocessFloat_RejectsSizesItWouldHaveToResampleAndNonFloatInput()
    {
        var proc = ClipImageProcessor.Load(Folder);                  // shortest edge 16, crop 16
        using var scope = torch.NewDisposeScope();
        Assert.Contains("resizes a 20x24", Assert.Throws<ArgumentException>(() => proc.PreprocessFloat(torch.rand(1, 3, 20, 24))).Message);
        var noResize = new ClipImageProcessor(proc.Config with { DoResize = false });
        Assert.Contains("crops to 16x16", Assert.Throws<ArgumentException>(() => noResize.PreprocessFloat(torch.rand(1, 3, 20, 24))).Message);
        Assert.Throws<ArgumentException>(() => proc.PreprocessFloat(torch.zeros(new long[] { 1, 3, 16, 16 }, torch.uint8)));
        Assert.Throws<ArgumentException>(() => proc.PreprocessFloat(torch.rand(3, 16, 16)));
        // Nothing to do still hands back a tensor of the caller's own.
        var identity = new ClipImageProcessor(proc.Config with { DoNormalize = false });   // rescale 1/255: factor exactly 1
        var x = torch.rand(1, 3, 16, 16);
        var y = identity.PreprocessFloat(x);
        Assert.False(ReferenceEquals(x, y));
        y.add_(1);
        using var unchanged = x.lt(1).all();
        Assert.True(unchanged.item<bool>(), "the identity result shares storage with the input");
    }
}
