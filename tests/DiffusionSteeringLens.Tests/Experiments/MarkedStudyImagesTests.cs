using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Synthetic;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Experiments;

public sealed class MarkedStudyImagesTests
{
    [Theory]
    [InlineData(MarkKind.Stripes)]
    [InlineData(MarkKind.Dots)]
    [InlineData(MarkKind.Cross)]
    [InlineData(MarkKind.Bar)]
    public void TheStudyMarkIsAbsentFromTheImagesAndTheOverlayAddsExactlyIt(MarkKind kind)
    {
        var processor = ClipImageProcessor.Load(Path.Combine(ShippedShapesModel.Require(), "encoder"));
        using var images = SyntheticStudyImages.Marked(processor, kind, evaluationCount: 12, seed: 4, calibrationCount: 6, referenceCount: 0);
        var pictures = images.Evaluation.Pictures;
        using var mask = MarkedShapeDomain.MarkMask(kind).to(torch.ScalarType.Bool).view(1, 1, 32, 32).expand(pictures.shape[0], 3, 32, 32);
        using var overlaid = images.ComposeOverlay(pictures);
        // Outside the mark nothing changes; inside it every pixel is the mark's white.
        using var diff = (overlaid - pictures).abs();
        Assert.Equal(0.0, diff.masked_select(mask.logical_not()).max().item<float>(), 6);
        Assert.Equal(1.0, overlaid.masked_select(mask).min().item<float>(), 6);
        // The base images lack the mark: the overlay changes every one of them.
        using var changed = diff.flatten(1).amax(new long[] { 1 });
        Assert.True(changed.min().item<float>() > 0.1f, $"an image already carried the {kind} mark");
        // The other marks stay as the domain draws them (some images carry some other mark).
        var other = Enum.GetValues<MarkKind>().Where(k => k != kind && k != MarkKind.Stripes).ToArray();
        var records = MarkedShapeDomain.Sample(12, 4);
        Assert.Contains(records, r => other.Any(r.Has));
        Assert.Contains(kind.ToString(), images.Description, StringComparison.OrdinalIgnoreCase);
    }
}
