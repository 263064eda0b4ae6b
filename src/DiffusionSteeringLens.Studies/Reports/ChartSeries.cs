namespace DiffusionSteeringLens.Reports;

/// <summary>One line of a <see cref="SvgLineChart"/>.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="Points">(x, y) points in drawing order; NaN y values break the line.</param>
/// <param name="Color">CSS colour; null picks one from the palette.</param>
/// <param name="Dashed">Draw dashed (e.g. baselines).</param>
internal sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, string? Color = null, bool Dashed = false);
