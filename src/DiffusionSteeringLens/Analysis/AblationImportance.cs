using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Analysis;

/// <summary>How an ablated head is replaced.</summary>
public enum AblationKind
{
    /// <summary>z = 0.</summary>
    Zero,
    /// <summary>z = its mean over a reference set of images (per position).</summary>
    Mean,
}

/// <summary>
/// Causal ground truth for head rankings: ablate one head at a time (downstream recomputes normally) and measure the drop in
/// similarity of the output embedding to the clean one: importance = 1 − cos(e_ablated, e_clean).
/// </summary>
public static class AblationImportance
{
    /// <summary>Importance [B][L·H] (layer-major) of every head for each image.</summary>
    /// <param name="vit">Encoder.</param>
    /// <param name="pixels">Images [B, C, S, S].</param>
    /// <param name="kind">Zero or mean ablation.</param>
    /// <param name="referencePixels">Reference images for mean ablation (defaults to <paramref name="pixels"/>).</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public static double[][] Compute(IHookedVit vit, torch.Tensor pixels, AblationKind kind = AblationKind.Zero,
        torch.Tensor? referencePixels = null, CancellationToken cancellationToken = default)
    {
        using var scope = torch.NewDisposeScope();
        var mean = kind == AblationKind.Mean ? HeadAblation.MeanZ(vit, referencePixels ?? pixels) : null;
        var masks = HeadAblation.SingleHeadMasks(vit.Architecture);
        var ablated = HeadAblation.Run(vit, pixels, masks, mean, cancellationToken: cancellationToken); // [R, B, P]
        var clean = vit.Forward(pixels).unsqueeze(0);                                                     // [1, B, P]
        var importance = (1 - EmbeddingSimilarity.Cosine(ablated, clean)).t().cpu();                     // [B, R]
        return Enumerable.Range(0, (int)importance.shape[0]).Select(b => importance[b].data<double>().ToArray()).ToArray();
    }
}
