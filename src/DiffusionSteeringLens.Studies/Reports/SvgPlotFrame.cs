using System.Globalization;
using System.Net;
using System.Text;

namespace DiffusionSteeringLens.Reports;

/// <summary>Shared geometry of the SVG charts: plot area, linear scales, axes with ticks, title and axis labels.</summary>
internal sealed class SvgPlotFrame
{
    public const int Width = 560, Height = 340;
    public const double Left = 60, Right = 150, Top = 34, Bottom = 46;
    public static readonly string[] Palette = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f" };

    private readonly double _x0, _x1, _y0, _y1;
    private readonly bool _integerX;

    // integerX: x values are counts (layers, heads ablated), so ticks go at whole numbers only.
    public SvgPlotFrame(double xMin, double xMax, double yMin, double yMax, bool integerX = false)
    {
        _integerX = integerX;
        (_x0, _x1) = Pad(xMin, xMax);
        (_y0, _y1) = Pad(yMin, yMax);
    }

    public double PlotWidth => Width - Left - Right;
    public double PlotHeight => Height - Top - Bottom;

    public double X(double x) => Left + (x - _x0) / (_x1 - _x0) * PlotWidth;
    public double Y(double y) => Top + (1 - (y - _y0) / (_y1 - _y0)) * PlotHeight;

    public void Open(StringBuilder sb, string title, string xLabel, string yLabel)
    {
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\">");
        sb.Append(CultureInfo.InvariantCulture, $"<title>{Esc(title)}</title><rect width=\"{Width}\" height=\"{Height}\" fill=\"#fff\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">{Esc(title)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{F(Left)}\" y=\"{F(Top)}\" width=\"{F(PlotWidth)}\" height=\"{F(PlotHeight)}\" fill=\"none\" stroke=\"#444\"/>");
        foreach (var t in Ticks(_x0, _x1, _integerX))
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(X(t))}\" x2=\"{F(X(t))}\" y1=\"{F(Top + PlotHeight)}\" y2=\"{F(Top + PlotHeight + 4)}\" stroke=\"#444\"/><text x=\"{F(X(t))}\" y=\"{F(Top + PlotHeight + 16)}\" text-anchor=\"middle\">{Tick(t)}</text>");
        foreach (var t in Ticks(_y0, _y1))
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(Left - 4)}\" x2=\"{F(Left + PlotWidth)}\" y1=\"{F(Y(t))}\" y2=\"{F(Y(t))}\" stroke=\"#ddd\"/><text x=\"{F(Left - 6)}\" y=\"{F(Y(t) + 4)}\" text-anchor=\"end\">{Tick(t)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(Left + PlotWidth / 2)}\" y=\"{Height - 8}\" text-anchor=\"middle\">{Esc(xLabel)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(14 {F(Top + PlotHeight / 2)}) rotate(-90)\" text-anchor=\"middle\">{Esc(yLabel)}</text>");
    }

    public static void LegendEntry(StringBuilder sb, int index, string name, string color, bool dashed, bool marker = false)
    {
        double x = Width - Right + 12, y = Top + 8 + index * 18;
        var dash = dashed ? " stroke-dasharray=\"5 3\"" : "";
        if (marker) sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{F(x + 10)}\" cy=\"{F(y)}\" r=\"4\" fill=\"{color}\"/>");
        else sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(x)}\" x2=\"{F(x + 20)}\" y1=\"{F(y)}\" y2=\"{F(y)}\" stroke=\"{color}\" stroke-width=\"2\"{dash}/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(x + 26)}\" y=\"{F(y + 4)}\">{Esc(Shorten(name, 18))}</text>");
    }

    public static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    public static string Esc(string s) => WebUtility.HtmlEncode(s);

    public static string Tick(double v) => Math.Abs(v) < 1e-12 ? "0" : v.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Shorten(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    private static (double, double) Pad(double lo, double hi)
    {
        if (!double.IsFinite(lo) || !double.IsFinite(hi)) return (0, 1);
        if (hi - lo < 1e-12) return (lo - 0.5, hi + 0.5);
        double pad = (hi - lo) * 0.05;
        return (lo - pad, hi + pad);
    }

    /// <summary>About five "nice" tick values (1, 2, 5 × 10^k steps) inside [lo, hi].</summary>
    private static IEnumerable<double> Ticks(double lo, double hi, bool integer = false)
    {
        double raw = (hi - lo) / 5, mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2.0, 5.0, 10.0 }.Select(m => m * mag).First(s => s >= raw);
        if (integer) step = Math.Max(1, Math.Round(step));
        for (double t = Math.Ceiling(lo / step) * step; t <= hi + step * 1e-9; t += step) yield return Math.Round(t / step) * step;
    }
}
