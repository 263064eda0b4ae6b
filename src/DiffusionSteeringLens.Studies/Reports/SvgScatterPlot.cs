using System.Text;

namespace DiffusionSteeringLens.Reports;

/// <summary>A self-contained SVG scatter plot with one colour per group (e.g. lens score vs ablation importance).</summary>
internal static class SvgScatterPlot
{
    /// <summary>Renders the groups as an <c>&lt;svg&gt;</c> element; each point gets a tooltip with its label.</summary>
    /// <param name="title">Chart title.</param>
    /// <param name="xLabel">X-axis label.</param>
    /// <param name="yLabel">Y-axis label.</param>
    /// <param name="groups">Named point sets (x, y, label).</param>
    public static string Render(string title, string xLabel, string yLabel,
        IReadOnlyList<(string Name, IReadOnlyList<(double X, double Y, string Label)> Points)> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var pts = groups.SelectMany(g => g.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToArray();
        var frame = pts.Length == 0 ? new SvgPlotFrame(0, 1, 0, 1)
            : new SvgPlotFrame(pts.Min(p => p.X), pts.Max(p => p.X), pts.Min(p => p.Y), pts.Max(p => p.Y));
        var sb = new StringBuilder();
        frame.Open(sb, title, xLabel, yLabel);
        for (int g = 0; g < groups.Count; g++)
        {
            var color = SvgPlotFrame.Palette[g % SvgPlotFrame.Palette.Length];
            foreach (var (x, y, label) in groups[g].Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)))
                sb.Append($"<circle class=\"point\" cx=\"{SvgPlotFrame.F(frame.X(x))}\" cy=\"{SvgPlotFrame.F(frame.Y(y))}\" r=\"3.5\" fill=\"{color}\" fill-opacity=\"0.75\"><title>{SvgPlotFrame.Esc(label)}</title></circle>");
            SvgPlotFrame.LegendEntry(sb, g, groups[g].Name, color, false, marker: true);
        }
        return sb.Append("</svg>").ToString();
    }
}
