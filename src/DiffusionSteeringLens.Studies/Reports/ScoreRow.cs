namespace DiffusionSteeringLens.Reports;

/// <summary>One score in long format (what <c>results.csv</c> holds, one row per value).</summary>
/// <param name="Section">Experiment part, e.g. <c>layer_sweep</c>, <c>heads</c>, <c>validation</c>, <c>overlay</c>.</param>
/// <param name="Target">What was scored, e.g. <c>resid_post:3</c>, <c>L2H1</c>, <c>trajectory:dsl</c>.</param>
/// <param name="Metric">Metric name, e.g. <c>dsl_embedding</c>, <c>importance</c>, <c>spearman_rho</c>.</param>
/// <param name="Value">The value.</param>
internal sealed record ScoreRow(string Section, string Target, string Metric, double Value);
