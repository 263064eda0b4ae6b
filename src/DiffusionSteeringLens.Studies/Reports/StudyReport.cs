using System.Globalization;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;

namespace DiffusionSteeringLens.Reports;

/// <summary>
/// Builds the standard report of a run: summary, figures (grids), per-layer similarity curve, head-score heat maps
/// (layers × heads), score-vs-importance scatter, ablation trajectories, overlay study and top-head table.
/// </summary>
internal static class StudyReport
{
    /// <summary>Builds the report; parts whose results are absent are left out.</summary>
    /// <param name="results">The scores.</param>
    /// <param name="figures">Pictures to inline, in order.</param>
    /// <param name="topK">Rows of the top-heads table (every head is in the layer × head grids regardless).</param>
    /// <param name="provenance">Rows that make the run citable (library version, command line, settings), added to the Run table.</param>
    public static HtmlReport Build(StudyResults results, IReadOnlyList<ReportFigure> figures, int topK = 10,
        IReadOnlyList<KeyValuePair<string, string>>? provenance = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(figures);
        var report = new HtmlReport($"Diffusion Steering Lens — {results.Command}");
        report.Paragraph("Diffusion Lens (DL) reads the encoder's residual stream (or one component's output) out through its final norm and " +
            "projection and decodes the embedding into a picture. The Diffusion Steering Lens (DSL) steers one head or MLP, keeps every later " +
            "component at its clean value, and decodes the result — showing that component's direct contribution. Embedding-space scores are " +
            "cosines with the clean image embedding; image-space scores compare the decoded picture with the input through the encoder.");
        report.Heading("Run");
        var summary = new List<IReadOnlyList<string>>
        {
            new[] { "encoder", results.Encoder ?? "-" },
            new[] { "decoder", results.Decoder ?? "none (embedding-space scores only)" },
            new[] { "input", results.Input ?? "-" },
            new[] { "steering", results.Steering ?? "-" },
        };
        if (results.DecodeSettings is not null) summary.Add(new[] { "decode", results.DecodeSettings });
        if (results.Architecture is { } a)
            summary.Add(new[] { "encoder shape", $"{a.Family}: {a.NumLayers} layers × {a.NumHeads} heads, D={a.ModelDim}, P={a.OutputDim}, {a.ImageSize}px" });
        if (results.TimingsSeconds is { Count: > 0 } t)
            summary.Add(new[] { "wall time", string.Join(", ", t.Select(kv => $"{kv.Key} {kv.Value:0.0}s")) });
        if (provenance is not null) summary.AddRange(provenance.Select(kv => (IReadOnlyList<string>)new[] { kv.Key, kv.Value }));
        report.Table(new[] { "setting", "value" }, summary, numeric: false);

        if (figures.Count > 0)
        {
            report.Heading("Pictures");
            foreach (var f in figures) report.Image(f.Png, f.Caption, showCaption: false); // grids draw their own titles
        }
        if (results.LayerSweep is { Count: > 0 } sweep) LayerSection(report, sweep);
        if (results.Targets is { Count: > 0 } targets) TargetSection(report, targets);
        if (results.Heads is { Count: > 0 } heads) HeadSection(report, heads, results, topK);
        if (results.Validation is { } v) ValidationSection(report, v);
        if (results.ImageSpace is { } imageSpace) ImageSpaceSection(report, imageSpace);
        if (results.Overlay is { } o)
        {
            report.Heading("Overlay removal");
            if (results.OverlayVerdict is { } verdict) report.Paragraph(verdict);
            report.Paragraph($"Heads chosen by DSL on {o.CalibrationImages} calibration images; presence measured on {o.EvaluationImages} evaluation images "
                + "along the overlay direction d = mean(e_overlaid − e_base): 1 = the overlay is as present as in the clean model, 0 = gone.");
            report.Table(new[] { "ablated", "overlay presence", "images with the overlay removed (< ½ of clean presence)", "cos(ablated, clean) on clean images" }, new[]
            {
                new[] { "nothing", F(o.PresenceBefore), "0", "1.0000" },
                new[] { "DSL's heads (" + string.Join(", ", o.TopHeads.Select(h => h.Label)) + ")", F(o.PresenceAfter),
                    $"{o.RemovedImages} of {o.EvaluationImages} ({o.RemovalRate:P0}; 95 % Wilson CI {o.RemovalInterval.Low:P0}–{o.RemovalInterval.High:P0})", F(o.CleanSimilarityAfter) },
                (IReadOnlyList<string>)new[] { $"mean of {o.SubsetsCompared} {(o.Exhaustive ? "(all)" : "random")} subsets of {o.TopHeads.Count}", F(o.RandomPresenceMean),
                    $"{o.RandomRemovalRate:P0}", F(o.RandomCleanSimilarityAfter) },
            });
            if (o.Baselines.Count > 0)
            {
                report.Paragraph("Other selectors picking the same number of heads on the same calibration images, measured on the same evaluation "
                    + "images against the same random subsets (p one-sided, as for DSL):");
                report.Table(new[] { "selector", "heads", "overlay presence", "images with the overlay removed", "share of random subsets leaving more", "p" },
                    o.Baselines.Select(b => (IReadOnlyList<string>)new[] { b.Selector, string.Join(", ", b.Heads.Select(h => h.Head.Label)), F(b.PresenceAfter),
                        $"{b.RemovedImages} of {o.EvaluationImages}", $"{b.Percentile:P1}", F(b.PValue) }).ToList());
            }
        }
        return report;
    }

    private static void ImageSpaceSection(HtmlReport report, ImageSpaceValidationResult r)
    {
        report.Heading("Picture-space validation");
        report.Paragraph($"Every head's DSL and DL-on-heads read-out decoded on {r.Images} evaluation image(s) with decoder seeds "
            + $"{string.Join(", ", r.DecoderSeeds)}; a picture's score is its similarity to the input picture (through the encoder), averaged "
            + $"over the seeds; ρ with {r.Ablation.ToString().ToLowerInvariant()}-ablation importance on the same images. The embedding-space "
            + "rows are the same lenses' scores on the same images without decoding.");
        report.Table(new[] { "scores", "ρ", "95 % CI", "one-sided p", "verdict" },
            r.Lenses.Select(l => (IReadOnlyList<string>)new[] { l.Lens, F(l.Correlation.Rho), $"[{F(l.Correlation.CiLow)}, {F(l.Correlation.CiHigh)}]",
                F(l.Correlation.PValueOneSided), l.Verdict }).ToList());
        report.Paragraph(r.DslVsDlVerdict);
        report.Paragraph($"Seed agreement (mean Spearman ρ between two seeds' scores of the same image): DSL {F(r.DslSeedAgreement)}, "
            + $"DL-on-heads {F(r.DlSeedAgreement)}. Below 1, a single seed's ranking is partly decoder noise.");
        foreach (var w in r.Warnings) report.Paragraph("Warning: " + w);
    }

    private static void LayerSection(HtmlReport report, IReadOnlyList<TargetReadout> sweep)
    {
        report.Heading("Diffusion Lens layer sweep");
        var series = new List<ChartSeries> { new("embedding cosine", sweep.Select(r => ((double)r.Layer, r.EmbeddingSimilarity)).ToArray()) };
        if (sweep.All(r => r.ImageSimilarity.HasValue))
            series.Add(new("image similarity", sweep.Select(r => ((double)r.Layer, r.ImageSimilarity!.Value)).ToArray()));
        report.Svg(SvgLineChart.Render("Similarity to the input per layer (DL, resid_post)", "layer", "similarity", series));
    }

    private static void TargetSection(HtmlReport report, IReadOnlyList<TargetReadout> targets)
    {
        report.Heading("Chosen targets");
        report.Table(new[] { "lens", "target", "embedding cosine", "image similarity" },
            targets.Select(r => (IReadOnlyList<string>)new[] { r.Lens, r.Target, F(r.EmbeddingSimilarity), r.ImageSimilarity is { } s ? F(s) : "" }));
    }

    private static void HeadSection(HtmlReport report, IReadOnlyList<HeadScoreRow> heads, StudyResults results, int topK)
    {
        report.Heading("Head scores");
        int layers = heads.Max(h => h.Head.Layer) + 1, perLayer = heads.Max(h => h.Head.Head) + 1;
        var rowLabels = Enumerable.Range(0, layers).Select(l => $"L{l}").ToArray();
        var colLabels = Enumerable.Range(0, perLayer).Select(h => $"H{h}").ToArray();
        string HeatMap(string title, Func<HeadScoreRow, double?> pick)
        {
            var m = new double[layers, perLayer];
            for (int l = 0; l < layers; l++) for (int h = 0; h < perLayer; h++) m[l, h] = double.NaN;
            foreach (var r in heads) m[r.Head.Layer, r.Head.Head] = pick(r) ?? double.NaN;
            return SvgHeatMap.Render(title, m, rowLabels, colLabels);
        }
        // The primary score is image-space when every head was decoded, else embedding-space: the caption says which.
        bool imageSpace = heads.All(r => r.DslImageScore.HasValue);
        string plotted = imageSpace
            ? "image-space score: similarity of the decoded picture with the input, through the encoder"
            : "embedding-space score: cosine of the read-out embedding with the clean image embedding";
        report.Svg(HeatMap($"DSL score ({results.Steering}), layers × heads", r => r.DslPrimary), $"DSL, {plotted}.");
        report.Svg(HeatMap("DL-on-heads score, layers × heads", r => r.DlPrimary), $"DL applied to each head's output alone (the baseline), {plotted}.");
        if (heads.All(r => r.Importance.HasValue))
            report.Svg(HeatMap("Ablation importance, layers × heads", r => r.Importance), "Ablation importance: 1 − cosine of the head-ablated output with the clean one.");
        ScoreGrid(report, $"Every head's DSL score ({(imageSpace ? "image" : "embedding")} space), layers × heads", heads, layers, perLayer, r => r.DslPrimary);
        ScoreGrid(report, $"Every head's DL-on-heads score ({(imageSpace ? "image" : "embedding")} space), layers × heads", heads, layers, perLayer, r => r.DlPrimary);
        report.Table(new[] { "rank", "head", "DSL (embedding)", "DSL (image)", "DL (embedding)", "DL (image)", "DL rank", "importance" },
            heads.OrderBy(h => h.DslRank).Take(topK).Select(h => (IReadOnlyList<string>)new[]
            {
                h.DslRank.ToString(CultureInfo.InvariantCulture), h.Head.Label, F(h.DslScore), O(h.DslImageScore), F(h.DlScore), O(h.DlImageScore),
                h.DlRank.ToString(CultureInfo.InvariantCulture), O(h.Importance),
            }));
    }

    /// <summary>An L × H table of one score: every head, not only the top k, with the exact values behind the heat map.</summary>
    private static void ScoreGrid(HtmlReport report, string title, IReadOnlyList<HeadScoreRow> heads, int layers, int perLayer, Func<HeadScoreRow, double?> pick)
    {
        var cells = new string[layers, perLayer];
        foreach (var r in heads) cells[r.Head.Layer, r.Head.Head] = pick(r) is { } x ? F(x) : "";
        report.Paragraph(title + ":");
        report.Table(new[] { "layer" }.Concat(Enumerable.Range(0, perLayer).Select(h => $"H{h}")).ToArray(),
            Enumerable.Range(0, layers).Select(l => (IReadOnlyList<string>)new[] { $"L{l}" }
                .Concat(Enumerable.Range(0, perLayer).Select(h => cells[l, h] ?? "")).ToArray()));
    }

    private static void ValidationSection(HtmlReport report, ValidationResult v)
    {
        report.Heading("Validation against ablation");
        report.Paragraph($"{v.Ablation} ablation, {v.ScoreSpace} space; images: {v.Images}. Success direction: {v.SuccessDirection}.");
        foreach (var w in v.Warnings) report.Paragraph("Warning: " + w);
        if (v.SilentHeads.Count > 0) report.Paragraph($"Left out as silent (they write almost nothing): {string.Join(", ", v.SilentHeads)}.");
        report.Table(new[] { "lens", "head-level ρ", "95 % CI", "one-sided p", "verdict" },
            v.Lenses.Select(l => (IReadOnlyList<string>)new[]
            {
                l.Lens, F(l.Correlation.Rho), $"[{F(l.Correlation.CiLow)}, {F(l.Correlation.CiHigh)}]", F(l.Correlation.PValueOneSided), l.Verdict,
            }), numeric: false);
        report.Paragraph(v.DslVsDlVerdict);
        if (v.ContrastVsDlVerdict is { } contrastLine) report.Paragraph(contrastLine);
        var heads = v.Heads;
        report.Svg(SvgScatterPlot.Render("Lens score vs ablation importance (evaluation means)", "lens score", "importance", new (string, IReadOnlyList<(double, double, string)>)[]
        {
            ("DSL", heads.Select(h => (h.DslScore, h.Importance ?? double.NaN, h.Head.Label)).ToArray()),
            ("DL on heads", heads.Select(h => (h.DlScore, h.Importance ?? double.NaN, h.Head.Label)).ToArray()),
        }));
        var t = v.Trajectories;
        var series = new List<ChartSeries>
        {
            new("DSL order", Curve(t.Dsl.Similarity)),
            new("greedy (fitted on calibration)", Curve(t.Greedy.Similarity)),
            new($"mean of {t.RandomAucs.Count} random orders", Curve(t.RandomMeanSimilarity), "#999999", Dashed: true),
        };
        report.Svg(SvgLineChart.Render("Ablation trajectories (evaluation images)", "heads ablated", "cosine to clean output", series), v.TrajectoryVerdict);
        string Labels(Trajectory order) => string.Join(", ", order.Heads.Select(h => h.Label));
        report.Table(new[] { "order", "heads in ablation order" },
            new[] { (IReadOnlyList<string>)new[] { "DSL", Labels(t.Dsl) }, new[] { "greedy", Labels(t.Greedy) } }, numeric: false);
    }

    private static (double, double)[] Curve(IReadOnlyList<double> ys) => ys.Select((y, i) => ((double)i, y)).ToArray();

    private static string F(double v) => double.IsNaN(v) ? "NaN" : v.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string O(double? v) => v is { } x ? F(x) : "";
}
