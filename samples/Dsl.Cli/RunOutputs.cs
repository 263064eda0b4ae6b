using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Imaging;
using TorchSharp;

namespace DiffusionSteeringLens.Cli;

/// <summary>Writes a run's files: labelled PNG grids, results.json, results.csv and the self-contained report.html.</summary>
internal sealed class RunOutputs(string folder, ProgressDisplay display)
{
    private static readonly ImageGridOptions GridOptions = new() { MinCellSize = 96, FontSize = 12f };
    private readonly List<(string Caption, byte[] Png)> _figures = new();

    public string Folder { get; } = Path.GetFullPath(folder);

    public IReadOnlyList<(string Caption, byte[] Png)> Figures => _figures;

    /// <summary>Saves a grid of pictures: rows of (label, pictures [N,3,H,W] or single images, captions).</summary>
    public void Grid(string fileName, string title, IReadOnlyList<(string Label, IReadOnlyList<torch.Tensor> Images, IReadOnlyList<string> Captions)> rows,
        IReadOnlyList<string>? columnLabels = null, bool first = false)
    {
        int cols = rows.Max(r => r.Images.Count);
        if (cols == 0) return;
        var grid = new ImageGrid(rows.Count, cols, GridOptions) { Title = title };
        for (int r = 0; r < rows.Count; r++)
        {
            grid.RowLabels[r] = rows[r].Label;
            for (int c = 0; c < rows[r].Images.Count; c++)
                grid.SetImage(r, c, rows[r].Images[c], c < rows[r].Captions.Count ? rows[r].Captions[c] : null);
        }
        if (columnLabels is not null)
            for (int c = 0; c < Math.Min(cols, columnLabels.Count); c++) grid.ColumnLabels[c] = columnLabels[c];
        using var rendered = grid.Render();
        var png = ImageIO.EncodePng(rendered);
        var path = Path.Combine(Folder, fileName);
        ImageIO.SavePng(rendered, path);
        _figures.Insert(first ? 0 : _figures.Count, (title, png));
        display.Log($"wrote {path}");
    }

    /// <summary>Splits a picture batch into per-item views (caller disposes the list items).</summary>
    public static List<torch.Tensor> Items(torch.Tensor pictures, IEnumerable<int>? indices = null) =>
        (indices ?? Enumerable.Range(0, (int)pictures.shape[0])).Select(i => pictures.select(0, i)).ToList();

    /// <summary>Writes results.json (provenance first, then the results), results.csv and report.html.</summary>
    public void Results(StudyResults results, int topK, RunProvenance provenance)
    {
        var json = new JsonObject { ["provenance"] = JsonSerializer.SerializeToNode(provenance, ResultsWriter.JsonOptions) };
        foreach (var (key, value) in JsonSerializer.SerializeToNode(results, ResultsWriter.JsonOptions)!.AsObject().ToList())
            json[key] = value?.DeepClone();
        ResultsWriter.WriteAtomic(Path.Combine(Folder, "results.json"), json.ToJsonString(ResultsWriter.JsonOptions));
        results.WriteCsv(Path.Combine(Folder, "results.csv"));
        results.WriteReport(Path.Combine(Folder, "report.html"), _figures, topK, provenance.Rows());
        display.Log($"wrote {Path.Combine(Folder, "results.json")}, results.csv and report.html");
    }

    public static string Score(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
}
