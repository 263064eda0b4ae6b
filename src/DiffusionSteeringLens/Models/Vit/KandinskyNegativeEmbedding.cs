using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

// In the root namespace so callers anywhere in the library and the CLI find the extension without a new using.
namespace DiffusionSteeringLens;

/// <summary>
/// Kandinsky 2.2's unconditional ("negative") image embedding. It is a notion of the Kandinsky prior, not of an encoder,
/// so it lives here as an extension instead of on <see cref="IHookedVit"/>; users reach it as
/// <see cref="Models.Kandinsky.KandinskyV22Decoder.ZeroImageEmbedding"/>.
/// </summary>
internal static class KandinskyNegativeEmbedding
{
    /// <summary>
    /// The output embedding [1, P] of an all-zeros pixel tensor [1, C, S, S] (zeros after normalisation), as
    /// <c>KandinskyV22PriorPipeline.get_zero_embed</c> builds it. The caller owns the result.
    /// </summary>
    public static torch.Tensor ZeroImageEmbedding(this IHookedVit encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        var a = encoder.Architecture;
        using var zeros = torch.zeros(1, a.NumChannels, a.ImageSize, a.ImageSize, dtype: encoder.DType, device: encoder.Device);
        return encoder.Forward(zeros);
    }
}
