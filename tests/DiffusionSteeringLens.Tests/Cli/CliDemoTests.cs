using DiffusionSteeringLens.Synthetic;
using System.Text.Json;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Imaging;
using System.Text.RegularExpressions;
using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary>End-to-end runs of the experiment commands on the golden encoder (with a stand-in renderer for pictures).</summary>
public sealed class CliDemoTests
{
    [Fact]
    public async Task DemoWritesGridsResultsAndASelfContainedReport()
    {
        var dir = Fixtures.TempFolder();
        var renderer = new FakeRenderer(24);
        var run = await CliRun.WithHost(new[] { "demo", "--encoder", CliRun.GoldenEncoder, "--out", dir, "--permutations", "200", "--synthetic", "12", "--random-orders", "100", "--bootstrap", "100" }, renderer);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal("", run.Error);
        foreach (var f in new[] { "input.png", "grid-layer-sweep.png", "grid-top-heads.png", "grid-overlay.png", "results.json", "results.csv", "report.html" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        // Redirected output: plain progress lines, not live bars.
        Assert.Contains("decode dsl-shown-heads+dl-shown-heads: 16/16", run.Out); // top 8 and bottom 4 of 8 heads: each once, both lenses in one pass
        Assert.Equal(2 + 8 + 8 + 2, renderer.Rendered);                          // layer sweep, shown heads (DSL, DL), overlay before/after
        Assert.Contains("study sizes: 12 evaluation and 20 calibration images, 200 permutations", run.Out);
        Assert.Contains("vs all 28 2-head subsets", run.Out);                      // 8 heads, k = 8 / 4: every subset, not a random draw

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json")));
        var root = json.RootElement;
        Assert.Equal(2, root.GetProperty("layerSweep").GetArrayLength());
        Assert.Equal(8, root.GetProperty("heads").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("heads")[0].GetProperty("dslImageScore").ValueKind);  // all heads: embedding space
        Assert.Equal(2 * 8, root.GetProperty("targets").GetArrayLength());                                      // shown heads: decoded
        Assert.Equal(JsonValueKind.Number, root.GetProperty("targets")[0].GetProperty("imageSimilarity").ValueKind);
        var validation = root.GetProperty("validation");
        Assert.Equal("embedding", validation.GetProperty("scoreSpace").GetString());
        Assert.Equal("zero", validation.GetProperty("ablation").GetString());
        Assert.Equal(new[] { "DSL", "DL-on-heads", "output-norm", "random", "DSL-contrast" },
            validation.GetProperty("lenses").EnumerateArray().Select(l => l.GetProperty("lens").GetString()).ToArray());
        Assert.All(validation.GetProperty("lenses").EnumerateArray(), l => Assert.Contains("ρ = ", l.GetProperty("verdict").GetString()));
        Assert.Equal(12, validation.GetProperty("perImage").GetArrayLength());
        Assert.Equal(100, validation.GetProperty("trajectories").GetProperty("randomAucs").GetArrayLength());
        Assert.True(root.GetProperty("overlay").TryGetProperty("presenceAfter", out _));
        Assert.Contains("Only 8 heads", run.Out);                                   // the power warning is printed

        var csv = File.ReadAllLines(Path.Combine(dir, "results.csv"));
        Assert.Equal("Section,Target,Metric,Value", csv[0]);
        Assert.Contains(csv, l => l.StartsWith("validation_heads,L1H3,importance,", StringComparison.Ordinal));
        Assert.Contains(csv, l => l.StartsWith("validation,DSL,spearman_rho,", StringComparison.Ordinal));
        Assert.Contains(csv, l => l.StartsWith("validation,dsl_minus_dl,delta_rho,", StringComparison.Ordinal));

        var html = File.ReadAllText(Path.Combine(dir, "report.html"));
        Assert.Equal(4, Regex.Matches(html, "src=\"data:image/png;base64,").Count); // input, layer sweep, shown heads, overlay
        Assert.Contains("Similarity to the input per layer", html);          // per-layer curve
        Assert.Equal(2 * 8, Regex.Matches(html, "class=\"cell\"").Count);     // DSL, DL heat maps of the input (2 × 4)
        Assert.Contains("Success direction", html);
        Assert.Contains("Lens score vs ablation importance", html);          // scatter
        Assert.Contains("Ablation trajectories", html);
        Assert.DoesNotMatch("(src|href)=\"(https?:|//)", html);               // nothing loaded from outside
    }

    [Fact]
    public void TheDemoDefaultsToThe96HeadTestbed()
    {
        var host = new DiffusionSteeringLens.Cli.CliHost { Out = TextWriter.Null, Error = TextWriter.Null };
        var encoder = DiffusionSteeringLens.Cli.Commands.DemoCommand.ModelEncoder(DiffusionSteeringLens.Cli.Commands.DemoCommand.DefaultModel, host)!;
        Assert.EndsWith(Path.Combine("marked96", "seed2", "encoder"), encoder, StringComparison.Ordinal);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(encoder, "config.json")));
        var vision = config.RootElement.TryGetProperty("vision_config", out var nested) ? nested : config.RootElement;
        Assert.Equal(96, vision.GetProperty("num_hidden_layers").GetInt32() * vision.GetProperty("num_attention_heads").GetInt32());
        // Its pictures come from the testbed's shared decoder; --model shapes32 is the tool's plain default (null).
        Assert.EndsWith(Path.Combine("marked96", "decoder"), DiffusionSteeringLens.Synthetic.ShippedModels.DecoderFor(encoder)!, StringComparison.Ordinal);
        Assert.Null(DiffusionSteeringLens.Cli.Commands.DemoCommand.ModelEncoder("shapes32", host));
    }

    [Fact]
    public async Task DemoModelOptionRejectsUnknownNamesAndEncoderTogether()
    {
        var bad = await CliRun.Public("demo", "--model", "tiny", "--out", Fixtures.TempFolder());
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--model must be marked96 or shapes32", bad.Error);
        var both = await CliRun.Public("demo", "--model", "shapes32", "--encoder", CliRun.GoldenEncoder, "--out", Fixtures.TempFolder());
        Assert.Equal(1, both.ExitCode);
        Assert.Contains("either --model or --encoder", both.Error);
    }

    [Fact]
    public async Task CommandsWithoutADecoderScoreInEmbeddingSpace()
    {
        var dir = Fixtures.TempFolder();
        foreach (var args in new[]
        {
            new[] { "lens" },
            new[] { "lens", "--targets", "resid_mid:1,L1H2" },
            new[] { "steer", "--targets", "L0-1,mlp:1" },
            new[] { "rank", "--top-k", "3" },
            new[] { "rank", "--top-k", "3", "--synthetic", "5" },
            new[] { "validate", "--trajectory-steps", "4", "--permutations", "100", "--synthetic", "6", "--random-orders", "50", "--bootstrap", "50" },
            new[] { "overlay", "--top-k", "2", "--synthetic", "6" },
        })
        {
            var outDir = Path.Combine(dir, string.Join("_", args.Where(a => a.StartsWith("--", StringComparison.Ordinal) || args[0] == a).Take(3)).Replace("-", ""));
            var run = await CliRun.Public(args.Concat(new[] { "--encoder", CliRun.GoldenEncoder, "--pixels", CliRun.GoldenPixels, "--out", outDir }).ToArray());
            Assert.True(run.ExitCode == 0, $"{args[0]}: {run.Error}");
            Assert.Contains("no decoder", run.Out);
            Assert.True(File.Exists(Path.Combine(outDir, "report.html")), args[0]);
            Assert.True(File.Exists(Path.Combine(outDir, "results.json")), args[0]);
        }
        using var ranked = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "rank_topk", "results.json")));
        Assert.Equal(JsonValueKind.Null, ranked.RootElement.GetProperty("imageRanking").ValueKind);
        using var rankedOnImages = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "rank_topk_synthetic", "results.json")));
        Assert.Equal(5, rankedOnImages.RootElement.GetProperty("imageRanking").GetProperty("perImage").GetArrayLength());
        using var steer = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "steer_targets", "results.json")));
        Assert.Equal(2 * 9, steer.RootElement.GetProperty("targets").GetArrayLength()); // 8 heads + 1 MLP, DSL and DL
    }

    [Fact]
    public async Task StudiesRunOnAFolderOfImagesSplitIntoCalibrationAndEvaluation()
    {
        var dir = Fixtures.TempFolder();
        var images = Path.Combine(dir, "images");
        Directory.CreateDirectory(images);
        var drawn = new[] { DemoImages.Disc(20), DemoImages.Square(20), DemoImages.Disc(24), DemoImages.Square(24), DemoImages.Disc(28), DemoImages.Square(28) };
        for (int i = 0; i < drawn.Length; i++)
            using (drawn[i])
            using (var chw = ImageIO.ToFloatChw(drawn[i]))
                ImageIO.SavePng(chw, Path.Combine(images, $"img{i}.png"));
        var outDir = Path.Combine(dir, "out");
        var run = await CliRun.Public("validate", "--encoder", CliRun.GoldenEncoder, "--images", images, "--out", outDir,
            "--permutations", "100", "--bootstrap", "50", "--random-orders", "30", "--trajectory-steps", "3");
        Assert.True(run.ExitCode == 0, run.Error);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")));
        var v = json.RootElement.GetProperty("validation");
        Assert.Equal(4, v.GetProperty("perImage").GetArrayLength());                       // 6 images: 2 calibrate, 4 are evaluated
        Assert.Equal(2, v.GetProperty("trajectories").GetProperty("calibrationImages").GetInt32());
        Assert.Contains("2 calibration, 4 evaluation images", v.GetProperty("images").GetString());
        Assert.Contains("Only 4 evaluation image(s)", run.Out);
    }

    [Fact]
    public async Task SteerGridShowsDslAndDlSideBySide()
    {
        var dir = Fixtures.TempFolder();
        var run = await CliRun.WithHost(new[] { "steer", "--encoder", CliRun.GoldenEncoder, "--targets", "L1H0,mlp:0", "--steer", "relative:1.5", "--out", dir }, new FakeRenderer(24));
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.True(File.Exists(Path.Combine(dir, "grid-targets.png")));
        Assert.True(File.Exists(Path.Combine(dir, "pictures", "dsl-targets", "mlp_0.png")));
    }
}
