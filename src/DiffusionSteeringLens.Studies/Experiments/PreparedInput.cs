using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// An encoder input in both forms an experiment needs: the preprocessed <c>pixel_values</c> and the picture they show
/// (resized/cropped, in [0, 1]) that decoded pictures are compared with.
/// </summary>
public sealed class PreparedInput : IDisposable
{
    /// <summary>Takes ownership of both tensors.</summary>
    /// <param name="pixels">[B, 3, S, S] preprocessed pixel values.</param>
    /// <param name="pictures">[B, 3, S, S] pictures in [0, 1].</param>
    public PreparedInput(torch.Tensor pixels, torch.Tensor pictures)
    {
        Pixels = pixels;
        Pictures = pictures;
    }

    /// <summary>Preprocessed pixel values [B, 3, S, S].</summary>
    public torch.Tensor Pixels { get; }

    /// <summary>The pictures the pixels show, [B, 3, S, S] in [0, 1].</summary>
    public torch.Tensor Pictures { get; }

    /// <summary>
    /// The preprocessing the pixels were made with (normalisation mean/std, rescale), when known: picture-space scores
    /// re-encode decoded pictures with it, so they follow the model's processor instead of assuming CLIP's constants.
    /// </summary>
    public ClipImageProcessorConfig? Processor { get; init; }

    /// <summary>Preprocesses RGB uint8 <c>[H, W, 3]</c> images (all must end up the same size).</summary>
    public static PreparedInput FromRgb(ClipImageProcessor processor, IReadOnlyList<torch.Tensor> rgbImages)
    {
        ArgumentNullException.ThrowIfNull(processor);
        var pixels = processor.Preprocess(rgbImages);
        using var scope = torch.NewDisposeScope();
        var pictures = torch.stack(rgbImages.Select(img =>
        {
            using var resized = processor.Resize(img);
            using var cropped = processor.CenterCrop(resized);
            return ImageIO.ToFloatChw(cropped);
        }).ToArray(), 0);
        return new PreparedInput(pixels, pictures.MoveToOuterDisposeScope()) { Processor = processor.Config };
    }

    /// <summary>Wraps already preprocessed pixel values; the pictures are recovered by undoing the normalisation.</summary>
    public static PreparedInput FromPixels(torch.Tensor pixelValues, ClipImageProcessorConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        using var scope = torch.NewDisposeScope();
        var x = pixelValues.to(torch.float32);
        if (config.DoNormalize)
        {
            var mean = torch.tensor(config.ImageMean, dtype: torch.float32).view(1, 3, 1, 1);
            var std = torch.tensor(config.ImageStd, dtype: torch.float32).view(1, 3, 1, 1);
            x = x * std + mean;
        }
        if (config.DoRescale) x = x * (float)(1.0 / (255.0 * config.RescaleFactor));
        var pictures = x.clamp(0, 1).MoveToOuterDisposeScope();
        return new PreparedInput(pixelValues.clone().MoveToOuterDisposeScope(), pictures) { Processor = config };
    }

    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        Pixels.Dispose();
        Pictures.Dispose();
    }
}
