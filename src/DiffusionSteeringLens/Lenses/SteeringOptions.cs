namespace DiffusionSteeringLens.Lenses;

/// <summary>Which token positions the steered submodule's output is changed at (hook-based path).</summary>
public enum SteeringScope
{
    /// <summary>Only the CLS row (under full patching only this row reaches the read-out anyway).</summary>
    ClsOnly,
    /// <summary>Every token.</summary>
    AllTokens,
}

/// <summary>Which submodules after the steered one are held at their clean values.</summary>
public enum PatchingMode
{
    /// <summary>Every later attention and MLP output is patched: only the direct path remains (the DSL definition).</summary>
    Full,
    /// <summary>Later attention outputs are patched, later MLPs recompute: shows MLP-mediated effects.</summary>
    FreezeAttention,
    /// <summary>Nothing is patched: the total (direct + indirect) effect of the steering.</summary>
    None,
}

/// <summary>How the DSL embeddings are computed.</summary>
public enum DslComputation
{
    /// <summary>Closed form when the options allow it (full patching, built-in or custom σ), else hook-based.</summary>
    Auto,
    /// <summary>r′ = r_final + σ(o_s) − o_s at the CLS row from one cached forward, read-outs batched.</summary>
    ClosedForm,
    /// <summary>One hooked forward per target: steer s, patch later submodules to clean values.</summary>
    HookBased,
}

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
}
