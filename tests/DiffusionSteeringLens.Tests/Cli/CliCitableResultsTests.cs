using System.Reflection;
using System.Text.Json;
using DiffusionSteeringLens.Cli;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Reports;
using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary>Results a researcher can cite: version, command line and settings recorded; every head shown; plain errors and help.</summary>
public sealed class CliCitableResultsTests
{
    [Fact]
    public async Task ResultsAndReportRecordVersionCommandLineSettingsAndEveryHead()
    {
        var outDir = Fixtures.TempFolder();
        var run = await CliRun.Public("rank", "--encoder", CliRun.GoldenEncoder, "--pixels", CliRun.GoldenPixels, "--no-decode",
            "--top-k", "2", "--steer", "scale:0.5", "--out", outDir);
        Assert.True(run.ExitCode == 0, run.Error);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")));
        var provenance = json.RootElement.GetProperty("provenance");
        var library = typeof(StudyResults).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(library, provenance.GetProperty("libraryVersion").GetString());
        Assert.Equal($"dsl rank --encoder {CliRun.GoldenEncoder} --pixels {CliRun.GoldenPixels} --no-decode --top-k 2 --steer scale:0.5 --out {outDir}",
            provenance.GetProperty("commandLine").GetString());
        var settings = provenance.GetProperty("settings");
        Assert.Equal("2", settings.GetProperty("top-k").GetString());
        Assert.Equal("scale:0.5", settings.GetProperty("steer").GetString());
        Assert.Equal("(none: --no-decode)", settings.GetProperty("decoder").GetString());
        Assert.Equal("0", settings.GetProperty("seed").GetString()); // defaults are recorded too
        // The results themselves follow the provenance, unchanged.
        var heads = json.RootElement.GetProperty("heads").EnumerateArray().ToList();
        Assert.NotEmpty(heads);

        var html = System.Net.WebUtility.HtmlDecode(File.ReadAllText(Path.Combine(outDir, "report.html")));
        Assert.Contains($"DiffusionSteeringLens {library}", html);
        Assert.Contains("--top-k 2 --steer scale:0.5", html);
        Assert.Contains("embedding-space score", html); // the heat-map caption names the score it plots
        // Every head is in the L × H score grid, although the top-heads table holds only k = 2 rows.
        Assert.Contains("Every head's DSL score (embedding space), layers × heads", html);
        foreach (var h in heads)
        {
            var dsl = h.GetProperty("dslScore").GetDouble();
            Assert.Contains($"<td>{dsl.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture)}</td>", html);
        }
    }

    [Fact]
    public async Task DecodedRunsShowEveryHeadAsALayerByHeadPictureGrid()
    {
        var outDir = Fixtures.TempFolder();
        var run = await CliRun.WithHost(new[] { "rank", "--encoder", CliRun.GoldenEncoder, "--top-k", "2", "--out", outDir }, new FakeRenderer(24));
        Assert.True(run.ExitCode == 0, run.Error);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")));
        var heads = json.RootElement.GetProperty("heads").EnumerateArray().ToList();
        var names = heads.Select(h => (HeadTarget)LensTarget.Parse(h.GetProperty("head").GetString()!)).ToList(); // heads are written as labels
        int layers = names.Max(h => h.Layer) + 1, perLayer = names.Max(h => h.Head) + 1;
        Assert.Equal(layers * perLayer, heads.Count);
        Assert.Equal((2, 4), (layers, perLayer)); // the golden encoder
        using var grid = DiffusionSteeringLens.Imaging.ImageIO.LoadRgb(Path.Combine(outDir, "grid-all-heads-dsl.png"));
        Assert.Equal(3, grid.shape[2]);
        var html = System.Net.WebUtility.HtmlDecode(File.ReadAllText(Path.Combine(outDir, "report.html")));
        Assert.Contains("Every head, DSL (layers × heads; caption: DSL score)", html);
        Assert.Contains("image-space score", html); // decoded: the heat maps plot image-space scores and say so
    }

    [Fact]
    public void AllHeadsGridPlacesEveryHeadAtItsLayerAndColumn()
    {
        // Rows in ranking order (not layer-major): the grid must still put L1H0 at row 1, column 0.
        var rows = new[] { (1, 0), (0, 2), (1, 2), (0, 0), (1, 1), (0, 1) }
            .Select((lh, i) => new HeadScoreRow(new HeadTarget(lh.Item1, lh.Item2), 0.1 * i, i + 1, 0, i + 1)).ToList();
        var layout = DiffusionSteeringLens.Cli.Commands.Figures.AllHeadsLayout(rows);
        Assert.Equal(2, layout.Length);
        for (int l = 0; l < 2; l++)
            for (int h = 0; h < 3; h++)
                Assert.Equal(new HeadTarget(l, h), rows[layout[l][h]].Head);
        Assert.Throws<InvalidOperationException>(() => DiffusionSteeringLens.Cli.Commands.Figures.AllHeadsLayout(rows.Skip(1).ToList()));
    }

    [Fact]
    public async Task OutBelowAFileSaysSoPlainly()
    {
        var file = Path.Combine(Fixtures.TempFolder(), "notes.txt");
        File.WriteAllText(file, "a file, not a folder");
        var run = await CliRun.Public("lens", "--encoder", CliRun.GoldenEncoder, "--out", Path.Combine(file, "run1", "sub"));
        run.AssertOneLineError(1, file);
        Assert.Contains("is a file, not a folder", run.Error);
        Assert.Null(CommonOptions.FileAbove(Path.Combine(Fixtures.TempFolder(), "new", "deeper")));
    }

    [Theory]
    [InlineData("overlay", "ablates")]
    [InlineData("demo", "ablates 4 heads on the testbed and a quarter of all heads on other models")]
    [InlineData("rank", "every head is scored")]
    public async Task TopKHelpSaysWhatKIsForEachCommand(string command, string says)
    {
        var run = await CliRun.Public(command, "--help");
        Assert.Equal(0, run.ExitCode);
        var help = string.Join(" ", run.Out.Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(says, help);
        Assert.Contains("--top-k", help);
    }

}
