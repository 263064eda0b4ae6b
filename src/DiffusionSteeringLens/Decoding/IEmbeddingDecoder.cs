using TorchSharp;

namespace DiffusionSteeringLens.Decoding;

/// <summary>
/// Turns image embeddings into pictures: what the lenses use to render an embedding (Kandinsky 2.2's decoder, or any
/// other image-embedding-conditioned generator).
/// </summary>
public interface IEmbeddingDecoder : IDisposable
{
    /// <summary>Width P of the embeddings the decoder accepts.</summary>
    int EmbeddingDim { get; }

    /// <summary>Renders one picture per embedding.</summary>
    /// <param name="imageEmbeds">[B, P] embeddings.</param>
    /// <param name="negativeImageEmbeds">
    /// [B, P] or [1, P] unconditional embeddings for decoders that use classifier-free guidance (Kandinsky: the image
    /// encoder's embedding of an all-zero image, required when its guidance scale is above 1); other decoders ignore it.
    /// </param>
    /// <param name="options">Size and seed policy; a decoder may accept a derived record with its own settings
    /// (e.g. <c>KandinskyDecodeOptions</c>) and uses its defaults for plain options. Null uses the defaults.</param>
    /// <param name="progress">Reports every denoising step; may be null.</param>
    /// <param name="cancellationToken">Checked before every denoising step.</param>
    /// <returns>Pictures [B, 3, H, W] in [0, 1], float32 on the CPU; the caller owns the tensor.</returns>
    /// <exception cref="EmbeddingShapeException">The embeddings do not have the expected shape.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    torch.Tensor Decode(torch.Tensor imageEmbeds, torch.Tensor? negativeImageEmbeds, DecodeOptions? options = null,
        IProgress<DecodeProgress>? progress = null, CancellationToken cancellationToken = default);
}
