using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Vit;

/// <summary>preprocessor_config.json of ViTImageProcessor and BitImageProcessor, and the per-family fallbacks.</summary>
public sealed class FamilyProcessorConfigTests
{
    private static ClipImageProcessorConfig Parse(string json)
    {
        var file = Path.Combine(Fixtures.TempFolder(), "preprocessor_config.json");
        File.WriteAllText(file, json);
        return ClipImageProcessorConfig.Load(file);
    }

    [Fact]
    public void VitProcessorDefaultsAreTransformersVitDefaults()
    {
        var c = Parse("{ \"image_processor_type\": \"ViTImageProcessor\" }");
        Assert.Equal((224, 224), (c.ResizeHeight, c.ResizeWidth));
        Assert.Equal(2, c.Resample);
        Assert.False(c.DoCenterCrop);
        Assert.Equal(new[] { 0.5, 0.5, 0.5 }, c.ImageMean);
        Assert.Equal(new[] { 0.5, 0.5, 0.5 }, c.ImageStd);
    }

    [Fact]
    public void ExactSizeResizeIgnoresAspectRatio()
    {
        var c = Parse("{ \"image_processor_type\": \"ViTImageProcessor\", \"size\": { \"height\": 8, \"width\": 12 } }");
        var processor = new ClipImageProcessor(c);
        using var rgb = torch.randint(0, 256, new long[] { 29, 41, 3 }, dtype: torch.uint8);
        using var pixels = processor.Preprocess(rgb);
        Assert.Equal(new long[] { 1, 3, 8, 12 }, pixels.shape);
    }

    [Fact]
    public void BitProcessorIsShortestEdgeAndCrop()
    {
        var c = ClipImageProcessorConfig.Load(FamilyGolden.Dinov2Folder);
        Assert.Null(c.ResizeHeight);
        Assert.Equal(23, c.ShortestEdge);
        Assert.True(c.DoCenterCrop);
        Assert.Equal((20, 20), (c.CropHeight, c.CropWidth));
        Assert.Equal(new[] { 0.485, 0.456, 0.406 }, c.ImageMean);
    }

    [Theory]
    [InlineData("vit", true, 0.5)]
    [InlineData("dinov2", false, 0.485)]
    [InlineData("clip_vision", false, 0.48145466)]
    public void FamilyFallbacksWhenAFolderHasNoProcessor(string family, bool exactResize, double firstMean)
    {
        var c = ClipImageProcessorConfig.ForFamily(family, 16);
        Assert.Equal(exactResize, c.ResizeHeight == 16);
        Assert.Equal(!exactResize, c.DoCenterCrop);
        Assert.Equal(firstMean, c.ImageMean[0]);
    }

    [Fact]
    public void HalfGivenExactSizeIsAConfigError()
    {
        var e = Assert.Throws<ConfigException>(() => Parse("{ \"size\": { \"height\": 8 } }"));
        Assert.Equal("size", e.Key);
    }
}
