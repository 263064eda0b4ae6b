using DiffusionSteeringLens.Analysis;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>The overlay-removal study's scores, and the decoded outputs before/after ablating the top heads when decoding.</summary>
/// <param name="Result">Similarities before/after ablation.</param>
/// <param name="Pictures">[2, 3, H, W] (before, after), owned, or null.</param>
public sealed record OverlayOutcome(OverlayStudyResult Result, torch.Tensor? Pictures) : IDisposable
{
    /// <summary>Disposes the pictures.</summary>
    public void Dispose() => Pictures?.Dispose();
}
