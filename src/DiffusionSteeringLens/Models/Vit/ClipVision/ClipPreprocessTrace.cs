using TorchSharp;

namespace DiffusionSteeringLens.Models.Vit.ClipVision;

/// <summary>
/// Every stage of <see cref="ClipImageProcessor"/> for one image, for tests and debugging. Owns its tensors.
/// </summary>
internal sealed class ClipPreprocessTrace : IDisposable
{
    internal ClipPreprocessTrace(torch.Tensor input, torch.Tensor resized, torch.Tensor cropped, torch.Tensor pixelValues)
    {
        Input = input;
        Resized = resized;
        Cropped = cropped;
        PixelValues = pixelValues;
    }

    /// <summary>RGB uint8 <c>[H, W, 3]</c> given to the processor (a copy).</summary>
    public torch.Tensor Input { get; }

    /// <summary>RGB uint8 <c>[h, w, 3]</c> after the shortest-edge resize (equal to <see cref="Input"/> when resizing is off).</summary>
    public torch.Tensor Resized { get; }

    /// <summary>RGB uint8 <c>[cropH, cropW, 3]</c> after the centre crop (equal to <see cref="Resized"/> when cropping is off).</summary>
    public torch.Tensor Cropped { get; }

    /// <summary>Final float32 <c>[1, 3, H, W]</c> pixel values.</summary>
    public torch.Tensor PixelValues { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        Input.Dispose();
        Resized.Dispose();
        Cropped.Dispose();
        PixelValues.Dispose();
    }
}
