namespace DiffusionSteeringLens.Analysis;

/// <summary>A one-parameter family of steering functions whose strength <see cref="Experiments.LensStudy.CalibrateSteering"/> chooses.</summary>
public enum SteeringFamily
{
    /// <summary><see cref="Lenses.RelativeSteering"/>(λ).</summary>
    Relative,
    /// <summary><see cref="Lenses.GlobalScaleSteering"/>(α).</summary>
    GlobalScale,
}
