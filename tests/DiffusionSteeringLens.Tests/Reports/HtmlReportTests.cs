using DiffusionSteeringLens.Lenses;
using System.Text.RegularExpressions;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.Reports;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Reports;

public sealed class HtmlReportTests
{
    [Fact]
    public void ReportInlinesImagesAndChartsAndEscapesText()
    {
        using var img = torch.rand(3, 8, 8);
        var report = new HtmlReport("a <title> & more")
            .Paragraph("x < y")
            .Image(ImageIO.EncodePng(img), "picture")
            .Svg(SvgLineChart.Render("curve", "x", "y", new[] { new ChartSeries("s", new[] { (0.0, 1.0), (1.0, double.NaN), (2.0, 0.5) }) }));
        var html = report.Render();
        Assert.Contains("a &lt;title&gt; &amp; more", html);
        Assert.Contains("x &lt; y", html);
        Assert.Contains("src=\"data:image/png;base64,", html);
        Assert.Contains("<svg", html);
        Assert.DoesNotContain("<script", html);
        var dir = Fixtures.TempFolder();
        report.Save(Path.Combine(dir, "r.html"));
        Assert.Equal(html, File.ReadAllText(Path.Combine(dir, "r.html")));
    }

    [Fact]
    public void StudyReportHasEveryChart()
    {
        var rows = Enumerable.Range(0, 6).Select(i => new HeadScoreRow(new HeadTarget(i / 3, i % 3), i * 0.1, 6 - i, 0.5 - i * 0.05, i + 1, Importance: i * 0.02)).ToArray();
        var traj = new TrajectoryStudy(new Trajectory("dsl", new[] { new HeadTarget(1, 2), new HeadTarget(1, 1) }, new[] { 1.0, 0.8, 0.5 }), new Trajectory("greedy", new[] { new HeadTarget(1, 2), new HeadTarget(1, 0) }, new[] { 1.0, 0.6, 0.3 }),
            new[] { 0.9, 0.95 }, new[] { 1.0, 0.95, 0.9 }, 1.0, 0.33, 0.5, 4, 6);
        var corr = new HeadCorrelationResult(0.8, 0.01, 0.02, 0.5, 0.95, 6, 6, 100, 100);
        var validation = new ValidationResult(ScoreSpace.Embedding, AblationKind.Zero, "test images", "ρ > 0",
            new[] { new LensCorrelation("DSL", corr, "DSL tracked ablation importance") }, new RhoDifference(0.2, -0.1, 0.5, 0.2, 6, 6, 100),
            "DSL was not shown to track importance better", traj, "trajectory verdict", Array.Empty<HeadTarget>(), new[] { "Only 6 heads" }, rows,
            Array.Empty<ImageHeadScores>());
        var results = new StudyResults
        {
            Command = "demo",
            LayerSweep = new[] { new TargetReadout("DL", "resid_post:0", 0, 0.3, 0.2), new TargetReadout("DL", "resid_post:1", 1, 1.0, 0.9) },
            Heads = rows,
            Validation = validation,
            Overlay = new OverlayStudyResult(new[] { new HeadScore(new HeadTarget(1, 2), 0.9, 1) }, 0.98, 0.3, 0.7, 0.9, 0.1, 6, true, 0.95, 0.9, 4, 6),
            OverlayVerdict = "overlay verdict",
        };
        var html = StudyReport.Build(results, Array.Empty<ReportFigure>()).Render();
        Assert.Equal(3 * 6, Regex.Matches(html, "class=\"cell\"").Count);
        Assert.Equal(2 * 6, Regex.Matches(html, "class=\"point\"").Count);
        Assert.True(Regex.Matches(html, "class=\"series\"").Count >= 2 + 3);
        Assert.Contains("Overlay removal", html);
        Assert.Contains("overlay verdict", html);
        Assert.Contains("trajectory verdict", html);
        Assert.Contains("Warning: Only 6 heads", html);
        Assert.Contains("[0.5000, 0.9500]", html);                             // the CI next to ρ
        Assert.Contains("L1H2, L1H1", html);                                    // trajectory orders named by head label
        Assert.Contains("0.8000", html);
    }

    [Fact]
    public void HeatMapHandlesBigModelsAndNaN()
    {
        var m = new double[48, 16];
        for (int l = 0; l < 48; l++) for (int h = 0; h < 16; h++) m[l, h] = l == 3 && h == 4 ? double.NaN : l * 16 + h;
        var svg = SvgHeatMap.Render("bigG", m, Enumerable.Range(0, 48).Select(l => $"L{l}").ToArray(), Enumerable.Range(0, 16).Select(h => $"H{h}").ToArray());
        Assert.Equal(48 * 16, Regex.Matches(svg, "class=\"cell\"").Count);
        Assert.Contains("#bbb", svg);
    }

    [Fact]
    public void ScoreTableFlattensEveryScore()
    {
        var results = new StudyResults
        {
            Command = "rank",
            Heads = new[] { new HeadScoreRow(new HeadTarget(0, 0), 0.5, 1, 0.2, 1, 0.4, null, 0.1) },
            TimingsSeconds = new Dictionary<string, double> { ["rank"] = 1.5 },
        };
        var rows = ScoreTable.Flatten(results).ToArray();
        Assert.Contains(new ScoreRow("heads", "L0H0", "dsl_image", 0.4), rows);
        Assert.Contains(new ScoreRow("heads", "L0H0", "importance", 0.1), rows);
        Assert.DoesNotContain(rows, r => r.Metric == "dl_image");
        Assert.Contains(new ScoreRow("timings", "rank", "seconds", 1.5), rows);
    }
}
