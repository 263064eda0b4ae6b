using DiffusionSteeringLens.Analysis;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// Scores decoded pictures against the context's input pictures. With the encoder's own similarity
/// (<see cref="EncoderImageSimilarity"/>) each input picture is embedded once and kept, so DSL and DL on the same input
/// share that embedding instead of each embedding the picture again (one ViT-bigG/14 forward per lens and image at full
/// size). The values are those of <see cref="IImageSimilarity.Similarity"/>: the input picture is embedded alone either
/// way. Any other similarity is called as is.
/// </summary>
internal sealed class InputPictureScorer : IDisposable
{
    private readonly IImageSimilarity _similarity;
    private readonly torch.Tensor _inputPictures;                          // [B, 3, H, W], the context's
    private readonly Dictionary<long, torch.Tensor> _embeddings = new();   // image index → [1, P], owned here

    public InputPictureScorer(IImageSimilarity similarity, torch.Tensor inputPictures)
    {
        _similarity = similarity;
        _inputPictures = inputPictures;
    }

    /// <summary>Similarity of each decoded picture [N, 3, H, W] to input picture <paramref name="image"/>.</summary>
    public double[] Similarity(torch.Tensor decoded, long image)
    {
        using var reference = _inputPictures.narrow(0, image, 1);
        if (_similarity is not EncoderImageSimilarity encoder) return _similarity.Similarity(decoded, reference);
        if (!_embeddings.TryGetValue(image, out var embedding))
            _embeddings[image] = embedding = encoder.Embed(reference).DetachFromDisposeScope();
        using var embedded = encoder.Embed(decoded);
        return EmbeddingSimilarity.CosineRows(embedded, embedding);
    }

    public void Dispose()
    {
        foreach (var e in _embeddings.Values) e.Dispose();
        _embeddings.Clear();
    }
}
