using System.Globalization;
using System.Text;

namespace DiffusionSteeringLens.Reports;

/// <summary>A self-contained SVG heat map (e.g. head scores, layers × heads) with a colour bar.</summary>
internal static class SvgHeatMap
{
    /// <summary>Renders <paramref name="values"/> (rows × columns; NaN cells are grey) as an <c>&lt;svg&gt;</c> element.</summary>
    /// <param name="title">Chart title.</param>
    /// <param name="values">Cell values.</param>
    /// <param name="rowLabels">One label per row (drawn left).</param>
    /// <param name="columnLabels">One label per column (drawn above).</param>
    public static string Render(string title, double[,] values, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels)
    {
        ArgumentNullException.ThrowIfNull(values);
        int rows = values.GetLength(0), cols = values.GetLength(1);
        if (rowLabels.Count != rows || columnLabels.Count != cols) throw new ArgumentException("one label per row and per column is needed.");
        var finite = values.Cast<double>().Where(double.IsFinite).ToArray();
        double lo = finite.Length == 0 ? 0 : finite.Min(), hi = finite.Length == 0 ? 1 : finite.Max();
        if (hi - lo < 1e-12) hi = lo + 1e-12;
        // Cells shrink for big models (48×16 for bigG) but stay legible for tiny ones.
        double cell = Math.Clamp(480.0 / Math.Max(rows, cols), 6, 36);
        double left = 70, top = 50, width = left + cols * cell + 110, height = top + rows * cell + 20;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(width)}\" height=\"{F(height)}\" viewBox=\"0 0 {F(width)} {F(height)}\" font-family=\"sans-serif\" font-size=\"10\" role=\"img\">");
        sb.Append($"<title>{SvgPlotFrame.Esc(title)}</title><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(width / 2)}\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">{SvgPlotFrame.Esc(title)}</text>");
        int labelEvery = (int)Math.Ceiling(10 / cell);
        for (int c = 0; c < cols; c += labelEvery)
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(left + (c + 0.5) * cell)}\" y=\"{F(top - 6)}\" text-anchor=\"middle\">{SvgPlotFrame.Esc(columnLabels[c])}</text>");
        for (int r = 0; r < rows; r++)
        {
            if (r % labelEvery == 0)
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(left - 6)}\" y=\"{F(top + (r + 0.5) * cell + 3)}\" text-anchor=\"end\">{SvgPlotFrame.Esc(rowLabels[r])}</text>");
            for (int c = 0; c < cols; c++)
            {
                double v = values[r, c];
                var fill = double.IsFinite(v) ? Color((v - lo) / (hi - lo)) : "#bbb";
                sb.Append(CultureInfo.InvariantCulture, $"<rect class=\"cell\" x=\"{F(left + c * cell)}\" y=\"{F(top + r * cell)}\" width=\"{F(cell)}\" height=\"{F(cell)}\" fill=\"{fill}\"><title>{SvgPlotFrame.Esc(rowLabels[r])} {SvgPlotFrame.Esc(columnLabels[c])}: {SvgPlotFrame.Tick(v)}</title></rect>");
            }
        }
        double barX = left + cols * cell + 20, barH = Math.Max(60, rows * cell);
        for (int i = 0; i < 20; i++)
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{F(barX)}\" y=\"{F(top + i * barH / 20)}\" width=\"14\" height=\"{F(barH / 20 + 0.5)}\" fill=\"{Color(1 - i / 19.0)}\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(barX + 18)}\" y=\"{F(top + 8)}\">{SvgPlotFrame.Tick(Math.Round(hi, 4))}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(barX + 18)}\" y=\"{F(top + barH)}\">{SvgPlotFrame.Tick(Math.Round(lo, 4))}</text>");
        return sb.Append("</svg>").ToString();
    }

    private static string F(double v) => SvgPlotFrame.F(v);

    /// <summary>A perceptually ordered blue → yellow ramp (viridis-like) for t in [0, 1].</summary>
    private static string Color(double t)
    {
        t = Math.Clamp(t, 0, 1);
        (double r, double g, double b)[] stops = { (68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37) };
        double pos = t * (stops.Length - 1);
        int i = Math.Min((int)pos, stops.Length - 2);
        double f = pos - i;
        int R = (int)Math.Round(stops[i].r + (stops[i + 1].r - stops[i].r) * f);
        int G = (int)Math.Round(stops[i].g + (stops[i + 1].g - stops[i].g) * f);
        int B = (int)Math.Round(stops[i].b + (stops[i + 1].b - stops[i].b) * f);
        return $"#{R:x2}{G:x2}{B:x2}";
    }
}
