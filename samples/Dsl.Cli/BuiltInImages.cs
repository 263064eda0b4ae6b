using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using TorchSharp;
using DiffusionSteeringLens.Synthetic;

namespace DiffusionSteeringLens.Cli;

/// <summary>
/// The input used when no --image/--pixels is given: a shape from the synthetic domain the shipped model was trained on
/// (and that domain's own overlay for the overlay study).
/// </summary>
internal static class BuiltInImages
{
    /// <summary>The built-in base image, RGB uint8 [H, W, 3], and a description for the report.</summary>
    public static (torch.Tensor Rgb, string Description) Base(int encoderSize)
    {
        var attributes = ShapeDomain.Sample(1, seed: 7, overlayProbability: 0);
        using var images = ShapeDomain.Render(attributes);
        using var first = images.select(0, 0);
        return (ImageIO.ToUint8Hwc(first), $"built-in synthetic shape ({attributes[0]})");
    }

    /// <summary>
    /// Overlay-study inputs for the built-in image: the synthetic domain's own overlay (the shipped model knows it)
    /// for the built-in 32×32 input; null for other inputs (the library's default stripes are composed in).
    /// </summary>
    public static OverlayInputs? Overlay(ClipImageProcessor processor, torch.Tensor baseRgb, bool builtInInput)
    {
        if (!builtInInput || baseRgb.shape[0] != ShapeDomain.ImageSize || baseRgb.shape[1] != ShapeDomain.ImageSize) return null;
        torch.Tensor overlaid, overlayOnly;
        using (var scope = torch.NewDisposeScope())
        {
            var baseImages = ImageIO.ToFloatChw(baseRgb).unsqueeze(0);
            overlaid = ImageIO.ToUint8Hwc(ShapeDomain.ComposeOverlay(baseImages).select(0, 0).contiguous()).MoveToOuterDisposeScope();
            overlayOnly = ImageIO.ToUint8Hwc(ShapeDomain.RenderOverlayOnly().select(0, 0).contiguous()).MoveToOuterDisposeScope();
        }
        // Outside the scope: the prepared inputs must outlive this call.
        using (overlaid)
        using (overlayOnly)
            return OverlayInputs.FromImages(processor, baseRgb, overlaid, overlayOnly);
    }
}
