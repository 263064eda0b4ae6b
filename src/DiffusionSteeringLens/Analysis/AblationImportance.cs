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
    /// <param name="referencePixels">
    /// Reference images for mean ablation: a separate set (a few hundred images of the domain). Required for
    /// <see cref="AblationKind.Mean"/>: averaging over the evaluated images themselves makes the replacement depend on
    /// the image under study (on a single image it is the image's own z and every importance is 0).
    /// </param>
    /// <param name="cancellationToken">Cancellation.</param>
    public static double[][] Compute(IHookedVit vit, torch.Tensor pixels, AblationKind kind = AblationKind.Zero,
        torch.Tensor? referencePixels = null, CancellationToken cancellationToken = default)
    {
        using var scope = torch.NewDisposeScope();
        var mean = kind == AblationKind.Mean ? HeadAblation.MeanZ(vit, RequireReference(referencePixels)) : null;
        return Compute(vit, pixels, mean, cancellationToken);
    }

    /// <summary>Importance [B][L·H] with a given replacement z (<see cref="HeadAblation.MeanZ"/>, or null for zero ablation).</summary>
    internal static double[][] Compute(IHookedVit vit, torch.Tensor pixels, torch.Tensor? mean, CancellationToken cancellationToken)
    {
        using var scope = torch.NewDisposeScope();
        var masks = HeadAblation.SingleHeadMasks(vit.Architecture);
        var ablated = HeadAblation.Run(vit, pixels, masks, mean, cancellationToken: cancellationToken); // [R, B, P]
        var clean = vit.Forward(pixels).unsqueeze(0);                                                     // [1, B, P]
        var importance = (1 - EmbeddingSimilarity.Cosine(ablated, clean)).t().cpu();                     // [B, R]
        return Enumerable.Range(0, (int)importance.shape[0]).Select(b => importance[b].data<double>().ToArray()).ToArray();
    }

    /// <summary>The reference set of mean ablation, or a typed error naming what is missing.</summary>
    internal static torch.Tensor RequireReference(torch.Tensor? referencePixels)
    {
        if (referencePixels is null)
            throw new ArgumentException("mean ablation needs a separate reference set of images (referencePixels); none was given.", nameof(referencePixels));
        if (referencePixels.ndim != 4 || referencePixels.shape[0] < 1)
            throw new ArgumentException($"reference pixels must be [R ≥ 1, C, S, S]; got [{string.Join(", ", referencePixels.shape)}].", nameof(referencePixels));
        return referencePixels;
    }
}
