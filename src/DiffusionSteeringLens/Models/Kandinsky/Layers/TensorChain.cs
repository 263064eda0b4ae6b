using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Layers;

/// <summary>
/// Releases each intermediate of a layer chain as soon as the next one exists. At 512 px the decoder's last level
/// holds 128 MiB per feature map and image, so keeping every intermediate until the block's dispose scope ends
/// would multiply peak memory.
/// </summary>
internal static class TensorChain
{
    /// <summary>Returns <paramref name="next"/> after disposing <paramref name="current"/>, unless it is <paramref name="keep"/> (the caller's input).</summary>
    public static Tensor Advance(Tensor current, Tensor next, Tensor keep)
    {
        if (!ReferenceEquals(current, keep)) current.Dispose();
        return next;
    }
}
