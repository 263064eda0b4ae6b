using System.Text;

namespace DiffusionSteeringLens.Reports;

/// <summary>A self-contained SVG line chart (e.g. similarity per layer, ablation trajectories).</summary>
internal static class SvgLineChart
{
    /// <summary>Renders the series as an <c>&lt;svg&gt;</c> element with axes, ticks and a legend.</summary>
    /// <param name="title">Chart title.</param>
    /// <param name="xLabel">X-axis label.</param>
    /// <param name="yLabel">Y-axis label.</param>
    /// <param name="series">Lines to draw.</param>
    public static string Render(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var pts = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToArray();
        var frame = pts.Length == 0 ? new SvgPlotFrame(0, 1, 0, 1)
            : new SvgPlotFrame(pts.Min(p => p.X), pts.Max(p => p.X), pts.Min(p => p.Y), pts.Max(p => p.Y),
                integerX: pts.All(p => p.X == Math.Round(p.X)));
        var sb = new StringBuilder();
        frame.Open(sb, title, xLabel, yLabel);
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            var color = s.Color ?? SvgPlotFrame.Palette[i % SvgPlotFrame.Palette.Length];
            var dash = s.Dashed ? " stroke-dasharray=\"5 3\"" : "";
            var path = new StringBuilder();
            bool pen = false;
            foreach (var (x, y) in s.Points)
            {
                if (!double.IsFinite(x) || !double.IsFinite(y)) { pen = false; continue; }
                path.Append(pen ? " L" : " M").Append(SvgPlotFrame.F(frame.X(x))).Append(' ').Append(SvgPlotFrame.F(frame.Y(y)));
                pen = true;
            }
            sb.Append($"<path class=\"series\" d=\"{path.ToString().Trim()}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{dash}/>");
            if (s.Points.Count <= 64)
                foreach (var (x, y) in s.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)))
                    sb.Append($"<circle cx=\"{SvgPlotFrame.F(frame.X(x))}\" cy=\"{SvgPlotFrame.F(frame.Y(y))}\" r=\"2.5\" fill=\"{color}\"/>");
            SvgPlotFrame.LegendEntry(sb, i, s.Name, color, s.Dashed);
        }
        return sb.Append("</svg>").ToString();
    }
}
