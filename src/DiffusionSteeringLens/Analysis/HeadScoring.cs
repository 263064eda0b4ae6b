using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Analysis;

/// <summary>
/// Scores every head with a lens in embedding space: cosine between the head's lens embedding and the clean output
/// embedding of the same image. (Image-space scores decode the lens embeddings first, then use an IImageSimilarity.)
/// </summary>
public static class HeadScoring
{
    /// <summary>Scores [B, L·H] (layer-major) of every head for each image.</summary>
    public static double[][] EmbeddingScores(ILens lens, torch.Tensor pixels, IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var vit = lens.Encoder;
        var heads = LensTarget.AllHeads(vit.Architecture);
        using var scope = torch.NewDisposeScope();
        var e = lens.ComputeEmbeddings(pixels, heads, progress, cancellationToken); // [B, N, P]
        var clean = vit.Forward(pixels).unsqueeze(1);                              // [B, 1, P]
        var cos = EmbeddingSimilarity.Cosine(e, clean).cpu();                       // [B, N]
        return Enumerable.Range(0, (int)cos.shape[0]).Select(b => cos[b].data<double>().ToArray()).ToArray();
    }
}
