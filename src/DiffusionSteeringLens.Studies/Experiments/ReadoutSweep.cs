using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>Scores of a lens applied to a list of targets, and the decoded pictures (of the batch's first image) when decoding.</summary>
/// <param name="Readouts">One record per target, in target order.</param>
/// <param name="Pictures">[N, 3, H, W] in [0, 1], or null without decoding (owned).</param>
public sealed record ReadoutSweep(IReadOnlyList<TargetReadout> Readouts, torch.Tensor? Pictures) : IDisposable
{
    /// <summary>Disposes the pictures.</summary>
    public void Dispose() => Pictures?.Dispose();
}
