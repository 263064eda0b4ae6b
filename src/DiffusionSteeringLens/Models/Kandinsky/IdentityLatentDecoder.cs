using TorchSharp;

namespace DiffusionSteeringLens.Models.Kandinsky;

/// <summary>The latent is already the image (a pixel-space diffusion model): decoding returns a copy of it.</summary>
internal sealed class IdentityLatentDecoder : ILatentImageDecoder
{
    /// <summary>Creates the decoder.</summary>
    /// <param name="channels">Image channels (3 for RGB).</param>
    public IdentityLatentDecoder(int channels = 3)
    {
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "must be positive.");
        LatentChannels = channels;
    }

    /// <inheritdoc />
    public int ScaleFactor => 1;

    /// <inheritdoc />
    public int LatentChannels { get; }

    /// <inheritdoc />
    public torch.Tensor Decode(torch.Tensor latents)
    {
        ArgumentNullException.ThrowIfNull(latents);
        if (latents.dim() != 4 || latents.shape[1] != LatentChannels)
            throw new ArgumentException($"expected [B, {LatentChannels}, H, W], got [{string.Join(", ", latents.shape)}].", nameof(latents));
        return latents.clone();
    }

    /// <summary>Nothing to release.</summary>
    public void Dispose() { }
}
