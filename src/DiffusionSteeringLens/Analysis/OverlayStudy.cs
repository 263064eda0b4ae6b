using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Analysis;

/// <summary>Result of the overlay-removal experiment (embedding space; image-space numbers are added by callers that decode).</summary>
/// <param name="TopHeads">Heads ranked by similarity of their DSL embedding to the overlay reference (top-k ablated).</param>
/// <param name="OverlaySimilarityBefore">Mean cos(output of overlaid image, overlay reference).</param>
/// <param name="OverlaySimilarityAfter">The same after ablating the top-k heads.</param>
/// <param name="BaseSimilarityBefore">Mean cos(output of overlaid image, output of the clean base image).</param>
/// <param name="BaseSimilarityAfter">The same after ablation.</param>
/// <param name="RandomOverlaySimilarityAfter">Overlay similarity after ablating k random heads (control), mean over seeds.</param>
public sealed record OverlayStudyResult(IReadOnlyList<HeadScore> TopHeads, double OverlaySimilarityBefore, double OverlaySimilarityAfter,
    double BaseSimilarityBefore, double BaseSimilarityAfter, double RandomOverlaySimilarityAfter);

/// <summary>
/// Overlay removal: rank heads by how similar their DSL read-out is to an overlay-only reference, ablate the top k, and
/// check that the output loses the overlay while keeping the base image.
/// </summary>
public static class OverlayStudy
{
    /// <summary>Composites <paramref name="overlay"/> [3, H, W] onto pictures [B, 3, H, W] where <paramref name="mask"/> [H, W] is 1.</summary>
    public static torch.Tensor Compose(torch.Tensor pictures, torch.Tensor overlay, torch.Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        var m = mask.to(pictures.dtype).to(pictures.device).unsqueeze(0).unsqueeze(0);
        var o = overlay.to(pictures.dtype).to(pictures.device).unsqueeze(0);
        return (pictures * (1 - m) + o * m).MoveToOuterDisposeScope();
    }

    /// <summary>Runs the study in embedding space.</summary>
    /// <param name="lens">The DSL (or any head lens) used to rank heads.</param>
    /// <param name="basePixels">Clean images [B, C, S, S].</param>
    /// <param name="overlaidPixels">The same images with the overlay [B, C, S, S].</param>
    /// <param name="overlayReferencePixels">Overlay on a neutral background [1 or B, C, S, S].</param>
    /// <param name="topK">Heads to ablate.</param>
    /// <param name="randomSeeds">Seeds for the random-k control.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public static OverlayStudyResult Run(ILens lens, torch.Tensor basePixels, torch.Tensor overlaidPixels, torch.Tensor overlayReferencePixels,
        int topK, IReadOnlyList<int> randomSeeds, CancellationToken cancellationToken = default)
    {
        var vit = lens.Encoder;
        var arch = vit.Architecture;
        int n = arch.NumLayers * arch.NumHeads;
        topK = Math.Clamp(topK, 1, n);
        using var scope = torch.NewDisposeScope();
        var heads = LensTarget.AllHeads(arch);
        var dsl = lens.ComputeEmbeddings(overlaidPixels, heads, null, cancellationToken);            // [B, N, P]
        var overlayRef = vit.Forward(overlayReferencePixels);                                        // [1|B, P]
        var scores = EmbeddingSimilarity.Cosine(dsl, overlayRef.unsqueeze(1)).mean(new long[] { 0 }).cpu().data<double>().ToArray();
        var ranked = HeadScore.RankAll(scores, arch.NumHeads);
        var top = ranked.Take(topK).ToArray();

        var cleanBase = vit.Forward(basePixels);
        var before = vit.Forward(overlaidPixels);
        var masks = new List<float[]> { Mask(n, top.Select(h => h.Layer * arch.NumHeads + h.Head)) };
        foreach (var seed in randomSeeds)
        {
            var order = Enumerable.Range(0, n).ToArray();
            new Random(seed).Shuffle(order);
            masks.Add(Mask(n, order.Take(topK)));
        }
        var maskTensor = torch.tensor(masks.SelectMany(m => m).ToArray()).view(masks.Count, arch.NumLayers, arch.NumHeads);
        var after = HeadAblation.Run(vit, overlaidPixels, maskTensor, cancellationToken: cancellationToken); // [R, B, P]

        double Mean(torch.Tensor a, torch.Tensor b) => EmbeddingSimilarity.Cosine(a, b).mean().item<double>();
        var afterTop = after[0];
        double randomAfter = randomSeeds.Count == 0 ? double.NaN
            : Enumerable.Range(1, randomSeeds.Count).Average(i => Mean(after[i], overlayRef));
        return new OverlayStudyResult(top,
            Mean(before, overlayRef), Mean(afterTop, overlayRef),
            Mean(before, cleanBase), Mean(afterTop, cleanBase), randomAfter);
    }

    private static float[] Mask(int n, IEnumerable<int> ablated)
    {
        var m = Enumerable.Repeat(1f, n).ToArray();
        foreach (var i in ablated) m[i] = 0f;
        return m;
    }
}
