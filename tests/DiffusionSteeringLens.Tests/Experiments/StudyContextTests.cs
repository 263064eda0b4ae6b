using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Tests.Cli;
using DiffusionSteeringLens.Tests.TestSupport;
using DiffusionSteeringLens.Tests.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Experiments;

public sealed class StudyContextTests
{
    [Fact]
    public void PictureScoresReEncodeWithTheInputsOwnNormalisationNotClipsConstants()
    {
        using var vit = GoldenClip.Load();
        // A processor with ViT-style constants (mean = std = 0.5), unlike CLIP's defaults.
        var config = ClipImageProcessor.Load(GoldenClip.Folder).Config with { ImageMean = new[] { 0.5, 0.5, 0.5 }, ImageStd = new[] { 0.5, 0.5, 0.5 } };
        var processor = new ClipImageProcessor(config);
        using var g = new torch.Generator(5);
        using var rgb = (torch.rand(new long[] { 16, 16, 3 }, generator: g) * 255).to(torch.ScalarType.Byte);
        using var input = PreparedInput.FromRgb(processor, new[] { rgb });
        var renderer = new FakeRenderer(24);
        var context = new StudyContext(vit, input, new PictureSweep(Fixtures.TempFolder(), renderer.Render, "test"));
        var similarity = Assert.IsType<EncoderImageSimilarity>(context.ImageSimilarity);
        // Re-encoding the input picture must reproduce the encoder's output on the input pixels.
        using var reEncoded = similarity.Embed(input.Pictures);
        using var direct = vit.Forward(input.Pixels);
        using var cos = EmbeddingSimilarity.Cosine(reEncoded, direct);
        Assert.True(cos.to(torch.float64).item<double>() > 0.9999, $"cos {cos.to(torch.float64).item<double>()}");
        // With CLIP's constants (the old hard-coded default) it would not.
        using var clip = new EncoderImageSimilarity(vit).Embed(input.Pictures);
        using var cosClip = EmbeddingSimilarity.Cosine(clip, direct);
        Assert.True(cosClip.to(torch.float64).item<double>() < 0.999, $"CLIP constants give cos {cosClip.to(torch.float64).item<double>()}");
    }
}
