namespace DiffusionSteeringLens.Lenses;

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
