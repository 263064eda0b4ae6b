namespace DiffusionSteeringLens.Lenses;

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
