using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Models.Kandinsky;
using TorchSharp;

namespace DiffusionSteeringLens.Examples;

/// <summary>
/// A custom decoder adapter: instead of generating, it "decodes" an embedding by retrieving the gallery picture whose
/// encoder embedding is most similar (cosine). Cheap, deterministic, and a useful sanity check for a lens: if the
/// retrieved picture already matches, the diffusion decoder is not needed to read the embedding.
/// </summary>
public sealed class RetrievalDecoder : IEmbeddingDecoder
{
    private readonly torch.Tensor _galleryPictures;   // [G, 3, H, W] in [0, 1]
    private readonly torch.Tensor _galleryEmbeddings; // [G, P]

    /// <summary>Builds the gallery index from pictures and their encoder embeddings.</summary>
    public RetrievalDecoder(torch.Tensor galleryPictures, torch.Tensor galleryEmbeddings)
    {
        _galleryPictures = galleryPictures.detach().cpu().clone();
        _galleryEmbeddings = galleryEmbeddings.detach().cpu().to(torch.float32).clone();
    }

    /// <inheritdoc />
    public int EmbeddingDim => (int)_galleryEmbeddings.shape[1];

    /// <inheritdoc />
    public torch.Tensor Decode(torch.Tensor imageEmbeds, torch.Tensor? negativeImageEmbeds, DecodeOptions? options = null,
        IProgress<DecodeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (imageEmbeds.ndim != 2 || imageEmbeds.shape[1] != EmbeddingDim)
            throw new EmbeddingShapeException(nameof(imageEmbeds), imageEmbeds.shape, $"[B, {EmbeddingDim}]");
        cancellationToken.ThrowIfCancellationRequested();
        using var scope = torch.NewDisposeScope();
        var query = imageEmbeds.detach().cpu().to(torch.float32).unsqueeze(1);          // [B, 1, P]
        var cos = EmbeddingSimilarity.Cosine(query, _galleryEmbeddings.unsqueeze(0));    // [B, G]
        var best = cos.argmax(1);
        return _galleryPictures.index_select(0, best).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _galleryPictures.Dispose();
        _galleryEmbeddings.Dispose();
    }
}
