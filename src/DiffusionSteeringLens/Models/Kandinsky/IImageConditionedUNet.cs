using TorchSharp;

namespace DiffusionSteeringLens.Models.Kandinsky;

/// <summary>
/// A denoiser conditioned only on image embeddings (Kandinsky 2.2's UNet: image-projection context tokens plus an
/// image time-embedding). The sampling pipeline knows the UNet only through this.
/// </summary>
public interface IImageConditionedUNet : IDisposable
{
    /// <summary>Channels of the noisy sample.</summary>
    int InChannels { get; }

    /// <summary>Output channels (8 for Kandinsky 2.2: 4 noise + 4 variance channels).</summary>
    int OutChannels { get; }

    /// <summary>Width of the conditioning image embedding (1280 for Kandinsky 2.2).</summary>
    int ImageEmbedDim { get; }

    /// <summary>Device of the weights.</summary>
    torch.Device Device { get; }

    /// <summary>Compute dtype of the weights.</summary>
    torch.ScalarType DType { get; }

    /// <summary>One denoiser evaluation.</summary>
    /// <param name="sample">Noisy sample [B, InChannels, H, W].</param>
    /// <param name="timestep">Scalar or [B] timestep (raw scheduler value, e.g. 991).</param>
    /// <param name="imageEmbeds">[B, ImageEmbedDim].</param>
    /// <returns>[B, OutChannels, H, W].</returns>
    torch.Tensor Predict(torch.Tensor sample, torch.Tensor timestep, torch.Tensor imageEmbeds);
}
