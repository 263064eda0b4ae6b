namespace DiffusionSteeringLens.Lenses;

/// <summary>Which token positions the steered submodule's output is changed at (hook-based path).</summary>
public enum SteeringScope
{
    /// <summary>Only the CLS row (under full patching only this row reaches the read-out anyway).</summary>
    ClsOnly,
    /// <summary>Every token.</summary>
    AllTokens,
}
