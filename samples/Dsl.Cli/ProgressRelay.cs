using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Cli;

/// <summary>
/// Forwards progress to whichever display is current: the decoder is loaded once per session, but each run shows its
/// own progress, and denoising steps should appear there (a full-size picture takes minutes on a CPU).
/// </summary>
internal sealed class ProgressRelay : IProgress<LensProgress>
{
    public IProgress<LensProgress>? Target { get; set; }

    public void Report(LensProgress value) => Target?.Report(value);
}
