using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>One decoded lens picture. Owns its tensor: dispose it.</summary>
/// <param name="ImageIndex">Input image index.</param>
/// <param name="Target">The lens target.</param>
/// <param name="Picture">[3, H, W] in [0, 1] on the CPU.</param>
public sealed record LensPicture(int ImageIndex, LensTarget Target, torch.Tensor Picture) : IDisposable
{
    /// <inheritdoc />
    public void Dispose() => Picture.Dispose();
}
