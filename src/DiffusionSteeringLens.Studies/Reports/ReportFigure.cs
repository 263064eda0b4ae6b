namespace DiffusionSteeringLens.Reports;

/// <summary>A picture for the report: a PNG (e.g. a labelled grid) and its caption.</summary>
/// <param name="Caption">Caption text.</param>
/// <param name="Png">Encoded PNG bytes.</param>
internal sealed record ReportFigure(string Caption, byte[] Png);
