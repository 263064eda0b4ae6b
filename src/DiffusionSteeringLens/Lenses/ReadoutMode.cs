namespace DiffusionSteeringLens.Lenses;

/// <summary>How the steered residual is read out.</summary>
public enum ReadoutMode
{
    /// <summary>The model's read-out R as is: the final LayerNorm recomputes its scale from the steered residual.</summary>
    Recomputed,
    /// <summary>
    /// The final LayerNorm's scale is taken from the clean final CLS residual (see <see cref="Models.Vit.IHookedVit.ReadoutFrozen"/>),
    /// so the read-out is affine in the residual and the steering strength is not divided out again by the norm.
    /// </summary>
    FrozenLayerNorm,
}
