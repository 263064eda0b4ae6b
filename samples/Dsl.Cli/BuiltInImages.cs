using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using TorchSharp;
using DiffusionSteeringLens.Synthetic;

namespace DiffusionSteeringLens.Cli;

/// <summary>
/// The input used when no --image/--pixels is given: a shape from the synthetic domain the shipped model was trained on
/// (the overlay study draws its own image sets, see StudyImages).
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
}
