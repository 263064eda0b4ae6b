using DiffusionSteeringLens.Analysis;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>The overlay-removal study's scores, and the decoded outputs before/after ablating the top heads when decoding.</summary>
/// <param name="Result">Overlay presence before/after ablation and the comparison with head subsets.</param>
/// <param name="Verdict">Plain-words verdict.</param>
/// <param name="Pictures">[2, 3, H, W] (first evaluation image's output before and after ablating the chosen heads), owned, or null.</param>
public sealed record OverlayOutcome(OverlayStudyResult Result, string Verdict, torch.Tensor? Pictures) : IDisposable
{
    /// <summary>Disposes the pictures.</summary>
    public void Dispose() => Pictures?.Dispose();
}
