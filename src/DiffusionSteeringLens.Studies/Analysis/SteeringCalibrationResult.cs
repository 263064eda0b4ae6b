using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Analysis;

/// <summary>The strength chosen on calibration images, with the whole grid so reports can show what was compared.</summary>
/// <param name="Family">The family whose strength was chosen.</param>
/// <param name="Readout">The read-out every candidate was scored with.</param>
/// <param name="Grid">Every candidate in grid order: the steering function scored and the head-level Spearman ρ between its
/// calibration-averaged DSL score and ablation importance (NaN when undefined).</param>
/// <param name="Chosen">The candidate with the largest ρ (the first in grid order among ties).</param>
/// <param name="CalibrationImages">Number of calibration images.</param>
/// <param name="SilentHeads">Heads (layer-major indices) left out of ρ because they write (almost) nothing.</param>
public sealed record SteeringCalibrationResult(SteeringFamily Family, ReadoutMode Readout, IReadOnlyList<(SteeringFunction Steering, double Rho)> Grid,
    SteeringFunction Chosen, int CalibrationImages, IReadOnlyList<int> SilentHeads);
