using DiffusionSteeringLens.Analysis;

namespace DiffusionSteeringLens.Experiments;

/// <summary>How well lens scores predict causal head importance.</summary>
/// <param name="ScoreSpace"><c>image</c> or <c>embedding</c>: which lens scores were correlated.</param>
/// <param name="Dsl">Spearman ρ (and permutation p) between DSL scores and ablation importance.</param>
/// <param name="Dl">The same for DL-on-heads scores.</param>
/// <param name="Trajectories">Cumulative ablation in DSL, greedy and random orders.</param>
public sealed record ValidationResult(string ScoreSpace, CorrelationResult Dsl, CorrelationResult Dl, TrajectoryStudy Trajectories);
