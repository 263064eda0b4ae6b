namespace DiffusionSteeringLens.Lenses;

/// <summary>Options of the Diffusion Steering Lens.</summary>
public sealed record SteeringOptions
{
    /// <summary>σ; <see cref="SteeringFunction.Default"/> when not set.</summary>
    public SteeringFunction Steering { get; init; } = SteeringFunction.Default;

    /// <summary>Positions steered (hook-based path).</summary>
    public SteeringScope Scope { get; init; } = SteeringScope.ClsOnly;

    /// <summary>Downstream patching.</summary>
    public PatchingMode Patching { get; init; } = PatchingMode.Full;

    /// <summary>Closed form or hook-based.</summary>
    public DslComputation Computation { get; init; } = DslComputation.Auto;

    /// <summary>How the steered residual is read out (recomputed final LayerNorm by default).</summary>
    public ReadoutMode Readout { get; init; } = ReadoutMode.Recomputed;
}
