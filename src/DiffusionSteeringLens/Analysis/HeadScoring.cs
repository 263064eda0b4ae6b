using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Analysis;

/// <summary>
/// Scores every head with a lens in embedding space: cosine between the head's lens embedding and the clean output
/// embedding of the same image. (Image-space scores decode the lens embeddings first, then use an IImageSimilarity.)
/// </summary>
/// <remarks>
/// Read the sign with the steering in mind: under <see cref="Lenses.ScaleSteering"/> a head whose output is tiny leaves the
/// embedding almost unchanged and scores ≈1, while a large head pushes it away and scores low — so scale-steered scores
/// can anti-correlate with ablation importance (measured on the shipped model: ρ = −0.67). <see cref="Lenses.RelativeSteering"/>
/// gives every head the same push, so its score reflects the direction of the head's write, not its size.
/// </remarks>
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
        return Rows(cos);
    }

    /// <summary>
    /// DSL scores [B][L·H] as <see cref="EmbeddingScores"/> plus each head's direct-effect visibility δ [B][L·H]
    /// (<see cref="DirectEffectVisibility"/>): one more batched read-out, of the residuals with each head's write removed.
    /// </summary>
    internal static (double[][] Scores, double[][] DirectEffect) SteeringScores(SteeringLens lens, torch.Tensor pixels, CancellationToken cancellationToken = default)
    {
        var vit = lens.Encoder;
        var heads = LensTarget.AllHeads(vit.Architecture);
        using var scope = torch.NewDisposeScope();
        var steered = lens.ComputeEmbeddings(pixels, heads, null, cancellationToken);                          // [B, N, P]
        var removed = DirectEffectVisibility.RemovedReadouts(lens, pixels, heads, cancellationToken);           // [B, N, P]
        var clean = vit.Forward(pixels).unsqueeze(1);                                                           // [B, 1, P]
        var cos = EmbeddingSimilarity.Cosine(steered, clean).cpu();
        var delta = DirectEffectVisibility.Delta(steered, removed).cpu();
        return (Rows(cos), Rows(delta));
    }

    private static double[][] Rows(torch.Tensor m) =>
        Enumerable.Range(0, (int)m.shape[0]).Select(b => m[b].data<double>().ToArray()).ToArray();
}
