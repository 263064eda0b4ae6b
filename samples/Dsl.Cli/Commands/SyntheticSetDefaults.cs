namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>Defaults of the synthetic image sets that a command sizes to its own budget (options the user gives win).</summary>
/// <param name="Domain">shapes or marked.</param>
/// <param name="OverlayKind">The overlay study's mark (null = stripes); used only with the default domain.</param>
/// <param name="EvaluationImages">Evaluation images.</param>
/// <param name="CalibrationImages">Calibration images.</param>
/// <param name="ReferenceImages">Mean-ablation reference images (0 = none).</param>
internal sealed record SyntheticSetDefaults(string Domain, string? OverlayKind, int EvaluationImages, int CalibrationImages, int ReferenceImages);
