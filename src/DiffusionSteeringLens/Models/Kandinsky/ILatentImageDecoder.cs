using TorchSharp;

namespace DiffusionSteeringLens.Models.Kandinsky;

/// <summary>
/// Turns the denoised sample into an image in ≈[−1, 1]: MoVQ for Kandinsky 2.2, or the identity for a pixel-space
/// decoder (the shipped toy model).
/// </summary>
public interface ILatentImageDecoder : IDisposable
{
    /// <summary>Image pixels per latent pixel along each axis (8 for the real MoVQ, 1 for pixel space).</summary>
    int ScaleFactor { get; }

    /// <summary>Channels of the latent the decoder accepts.</summary>
    int LatentChannels { get; }

    /// <summary>Decodes [B, LatentChannels, h, w] into [B, 3, h·ScaleFactor, w·ScaleFactor] (unclamped, ≈[−1, 1]).</summary>
    torch.Tensor Decode(torch.Tensor latents);
}
