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
    /// DSL contrast scores [B][L·H]: c_h = cos(R(r + Δ_h), e) − cos(R(r − Δ_h), e), with Δ_h = σ(o_h) − o_h the lens's
    /// steering push and e the clean output embedding — does amplifying head h's direct contribution make the read-out
    /// more like the input than suppressing it by the same amount? Unlike the plain score, which a head maximises by
    /// moving the read-out as little as possible, a head that writes nothing scores exactly 0 and a head whose write the
    /// read-out cannot see scores ≈ 0, so neither can rank first while any head's contribution points towards the input
    /// (docs/toy-model.md §10). One more batched read-out than <see cref="EmbeddingScores"/>.
    /// </summary>
    /// <param name="lens">The DSL lens (its steering defines Δ; every other option is kept for the mirrored read-out).</param>
    /// <param name="pixels">Preprocessed images [B, 3, H, W].</param>
    /// <param name="cancellationToken">Cancels between forwards.</param>
    public static double[][] ContrastScores(SteeringLens lens, torch.Tensor pixels, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lens);
        var heads = LensTarget.AllHeads(lens.Encoder.Architecture);
        using var scope = torch.NewDisposeScope();
        var readouts = lens.ComputeEmbeddingsUnder(pixels, heads, new[] { lens.Options.Steering, new MirroredSteering(lens.Options.Steering) }, cancellationToken);
        var clean = lens.Encoder.Forward(pixels).unsqueeze(1);
        return Rows(Contrast(readouts[0], readouts[1], clean));
    }

    /// <summary>
    /// DSL scores [B][L·H] as <see cref="EmbeddingScores"/>, each head's direct-effect visibility δ [B][L·H]
    /// (<see cref="DirectEffectVisibility"/>) and, when <paramref name="withContrast"/>, the contrast score
    /// (<see cref="ContrastScores"/>; else null): the steered, removed and mirrored read-outs come from one cached forward.
    /// </summary>
    internal static (double[][] Scores, double[][] DirectEffect, double[][]? Contrast) SteeringScores(SteeringLens lens, torch.Tensor pixels, bool withContrast,
        CancellationToken cancellationToken = default)
    {
        var vit = lens.Encoder;
        var heads = LensTarget.AllHeads(vit.Architecture);
        using var scope = torch.NewDisposeScope();
        var steerings = new List<SteeringFunction> { lens.Options.Steering, DirectEffectVisibility.Removal };
        if (withContrast) steerings.Add(new MirroredSteering(lens.Options.Steering));
        var readouts = lens.ComputeEmbeddingsUnder(pixels, heads, steerings, cancellationToken);                   // each [B, N, P]
        var clean = vit.Forward(pixels).unsqueeze(1);                                                           // [B, 1, P]
        var cos = EmbeddingSimilarity.Cosine(readouts[0], clean).cpu();
        var delta = DirectEffectVisibility.Delta(readouts[0], readouts[1]).cpu();
        return (Rows(cos), Rows(delta), withContrast ? Rows(Contrast(readouts[0], readouts[2], clean)) : null);
    }

    /// <summary>cos(steered, clean) − cos(mirrored, clean) [B, N], in float64 (so a zero push gives exactly 0), on the CPU.</summary>
    private static torch.Tensor Contrast(torch.Tensor steered, torch.Tensor mirrored, torch.Tensor clean) =>
        (EmbeddingSimilarity.Cosine(steered, clean) - EmbeddingSimilarity.Cosine(mirrored, clean)).cpu();

    private static double[][] Rows(torch.Tensor m) =>
        Enumerable.Range(0, (int)m.shape[0]).Select(b => m[b].data<double>().ToArray()).ToArray();
}
