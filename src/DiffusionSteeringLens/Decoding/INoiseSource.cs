using TorchSharp;

namespace DiffusionSteeringLens.Decoding;

/// <summary>
/// The randomness of ancestral sampling: initial latents and one variance-noise draw per step. Injected so a run can
/// be reproduced (seeded) or replayed (recorded tensors), and so an image's result does not depend on its batch
/// neighbours. Calls for an image come in order: <see cref="InitialLatents"/>, then <see cref="StepNoise"/> for
/// each step that adds noise.
/// </summary>
internal interface INoiseSource
{
    /// <summary>Standard normal initial latents for images <paramref name="firstImage"/> … + shape[0] − 1.</summary>
    /// <param name="firstImage">Index of the first image of the chunk within the whole decode call.</param>
    /// <param name="shape">[n, C, h, w].</param>
    /// <param name="dtype">Dtype of the result.</param>
    /// <param name="device">Device of the result.</param>
    /// <returns>A tensor of <paramref name="shape"/> the caller owns.</returns>
    torch.Tensor InitialLatents(int firstImage, long[] shape, torch.ScalarType dtype, torch.Device device);

    /// <summary>Standard normal variance noise of step <paramref name="step"/> (0-based) for the same images.</summary>
    /// <param name="firstImage">Index of the first image of the chunk.</param>
    /// <param name="step">Step index in the timestep list.</param>
    /// <param name="shape">[n, C, h, w].</param>
    /// <param name="dtype">Dtype of the result.</param>
    /// <param name="device">Device of the result.</param>
    /// <returns>A tensor of <paramref name="shape"/> the caller owns.</returns>
    torch.Tensor StepNoise(int firstImage, int step, long[] shape, torch.ScalarType dtype, torch.Device device);
}
