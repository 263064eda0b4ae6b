using System.Net;
using System.Text;
using DiffusionSteeringLens.Analysis;

namespace DiffusionSteeringLens.Reports;

/// <summary>
/// A self-contained HTML report: headings, text, tables, PNG images inlined as base64 data URIs and inline SVG charts,
/// with no external resources, so it can be opened offline or mailed as one file.
/// </summary>
internal sealed class HtmlReport
{
    private readonly StringBuilder _body = new();

    /// <summary>Creates an empty report.</summary>
    public HtmlReport(string title) => Title = title ?? throw new ArgumentNullException(nameof(title));

    /// <summary>Page title.</summary>
    public string Title { get; }

    /// <summary>Adds a section heading.</summary>
    public HtmlReport Heading(string text)
    {
        _body.Append("<h2>").Append(Esc(text)).Append("</h2>\n");
        return this;
    }

    /// <summary>Adds a paragraph of plain text.</summary>
    public HtmlReport Paragraph(string text)
    {
        _body.Append("<p>").Append(Esc(text)).Append("</p>\n");
        return this;
    }

    /// <summary>Adds a table; cells are plain text.</summary>
    /// <param name="headers">Column headers.</param>
    /// <param name="rows">Cells, row by row.</param>
    /// <param name="numeric">Right-align every column but the first (score tables).</param>
    public HtmlReport Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, bool numeric = true)
    {
        _body.Append(numeric ? "<table class=\"num\"><thead><tr>" : "<table><thead><tr>");
        foreach (var h in headers) _body.Append("<th>").Append(Esc(h)).Append("</th>");
        _body.Append("</tr></thead><tbody>\n");
        foreach (var row in rows)
        {
            _body.Append("<tr>");
            foreach (var c in row) _body.Append("<td>").Append(Esc(c)).Append("</td>");
            _body.Append("</tr>\n");
        }
        _body.Append("</tbody></table>\n");
        return this;
    }

    /// <summary>Adds a PNG image inline (base64 data URI) with a caption.</summary>
    /// <param name="png">Encoded PNG.</param>
    /// <param name="caption">Caption (always the alt text).</param>
    /// <param name="showCaption">Draw the caption under the image (off for pictures that carry their own title).</param>
    public HtmlReport Image(byte[] png, string caption, bool showCaption = true)
    {
        ArgumentNullException.ThrowIfNull(png);
        _body.Append("<figure><img alt=\"").Append(Esc(caption)).Append("\" src=\"data:image/png;base64,")
            .Append(Convert.ToBase64String(png)).Append("\"/>");
        if (showCaption) _body.Append("<figcaption>").Append(Esc(caption)).Append("</figcaption>");
        _body.Append("</figure>\n");
        return this;
    }

    /// <summary>Adds an inline SVG chart (markup from <see cref="SvgLineChart"/>, <see cref="SvgHeatMap"/>, <see cref="SvgScatterPlot"/>).</summary>
    public HtmlReport Svg(string svg, string? caption = null)
    {
        _body.Append("<figure class=\"chart\">").Append(svg);
        if (caption is not null) _body.Append("<figcaption>").Append(Esc(caption)).Append("</figcaption>");
        _body.Append("</figure>\n");
        return this;
    }

    /// <summary>The whole document.</summary>
    public string Render() =>
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><meta name=\"viewport\" content=\"width=device-width\"/>" +
        $"<title>{Esc(Title)}</title><style>{Css}</style></head>\n<body><h1>{Esc(Title)}</h1>\n{_body}</body></html>\n";

    /// <summary>Writes the document atomically (temporary file, then rename).</summary>
    public void Save(string path) => ResultsWriter.WriteAtomic(path, Render());

    private static string Esc(string s) => WebUtility.HtmlEncode(s);

    private const string Css =
        "body{font-family:sans-serif;margin:24px auto;max-width:1200px;color:#222}h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:28px}" +
        "table{border-collapse:collapse;font-size:12px;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}table.num td,table.num th{text-align:right}th{background:#f3f3f3}table.num td:first-child,table.num th:first-child{text-align:left}" +
        "figure{display:inline-block;margin:8px 16px 8px 0;vertical-align:top}figcaption{font-size:12px;color:#555;max-width:560px}" +
        "img{image-rendering:pixelated;max-width:100%;border:1px solid #ddd}svg{border:1px solid #ddd;max-width:100%;height:auto}p{font-size:14px;max-width:900px}";
}
