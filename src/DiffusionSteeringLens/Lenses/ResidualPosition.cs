namespace DiffusionSteeringLens.Lenses;

/// <summary>Where in a layer a residual site sits.</summary>
public enum ResidualPosition
{
    /// <summary>Entering the layer (resid_pre).</summary>
    Pre,
    /// <summary>After attention, before the MLP (resid_mid).</summary>
    Mid,
    /// <summary>Leaving the layer (resid_post).</summary>
    Post,
}
