namespace DiffusionSteeringLens.Lenses;

/// <summary>A submodule whose output is added to the residual stream (a head or an MLP).</summary>
public abstract record SubmoduleTarget : LensTarget;
