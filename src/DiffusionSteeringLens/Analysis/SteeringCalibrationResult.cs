using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Analysis;

/// <summary>One grid point of a steering calibration.</summary>
/// <param name="Steering">The steering function scored.</param>
/// <param name="Rho">Head-level Spearman ρ between its calibration-averaged DSL score and ablation importance; NaN when undefined.</param>
public sealed record SteeringCandidate(SteeringFunction Steering, double Rho);

/// <summary>The strength chosen on calibration images, with the whole grid so reports can show what was compared.</summary>
/// <param name="Family">The family whose strength was chosen.</param>
/// <param name="Readout">The read-out every candidate was scored with.</param>
/// <param name="Grid">Every candidate in grid order with its ρ.</param>
/// <param name="Chosen">The candidate with the largest ρ (the first in grid order among ties).</param>
/// <param name="CalibrationImages">Number of calibration images.</param>
/// <param name="SilentHeads">Heads (layer-major indices) left out of ρ because they write (almost) nothing.</param>
public sealed record SteeringCalibrationResult(SteeringFamily Family, ReadoutMode Readout, IReadOnlyList<SteeringCandidate> Grid,
    SteeringFunction Chosen, int CalibrationImages, IReadOnlyList<int> SilentHeads);
