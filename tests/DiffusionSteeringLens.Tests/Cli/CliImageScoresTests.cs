using System.Text.Json;
using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary><c>dsl image-scores</c>: picture-space validation over several decoder seeds.</summary>
public sealed class CliImageScoresTests
{
    [Fact]
    public async Task DecodesEveryHeadForEveryImageAndSeedAndCorrelatesTheSeedMeans()
    {
        var dir = Fixtures.TempFolder();
        var renderer = new FakeRenderer(embeddingDim: 24);
        var run = await CliRun.WithHost(new[] { "image-scores", "--encoder", CliRun.GoldenEncoder, "--synthetic", "4", "--image-count", "2",
            "--decoder-seeds", "5,7", "--permutations", "200", "--bootstrap", "100", "--out", dir }, renderer);
        Assert.True(run.ExitCode == 0, run.Error);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json")));
        var r = doc.RootElement.GetProperty("imageSpace");
        var arch = doc.RootElement.GetProperty("architecture");
        int heads = arch.GetProperty("numLayers").GetInt32() * arch.GetProperty("numHeads").GetInt32();
        Assert.Equal(2, r.GetProperty("images").GetInt32());
        Assert.Equal(new long[] { 5, 7 }, r.GetProperty("decoderSeeds").EnumerateArray().Select(e => e.GetInt64()).ToArray());
        // Two lenses × every head × 2 images × 2 seeds, each decoded once into its own seed's folder.
        Assert.Equal(2 * heads * 2 * 2, renderer.Rendered);
        Assert.True(Directory.Exists(Path.Combine(dir, "pictures", "seed-5", "image1-dsl-heads")));
        Assert.True(Directory.Exists(Path.Combine(dir, "pictures", "seed-7", "image0-dl-heads")));
        Assert.Equal(new[] { "DSL (image)", "DL-on-heads (image)", "DSL (embedding)", "DL-on-heads (embedding)", "output-norm" },
            r.GetProperty("lenses").EnumerateArray().Select(l => l.GetProperty("lens").GetString()).ToArray());
        // The stand-in decoder ignores the seed, so two seeds agree exactly; a real decoder does not (next test).
        Assert.Equal(1.0, r.GetProperty("dslSeedAgreement").GetDouble(), 12);
        Assert.Equal(2, r.GetProperty("perImage").GetArrayLength());
        Assert.Contains("Picture-space validation", File.ReadAllText(Path.Combine(dir, "report.html")));
        Assert.Contains("seed agreement", run.Out);
    }

    [Fact]
    public async Task WithTheShippedDecoderDifferentSeedsGiveDifferentPictures()
    {
        var dir = Fixtures.TempFolder();
        var run = await CliRun.Public("image-scores", "--synthetic", "4", "--image-count", "1", "--decoder-seeds", "0,1", "--steps", "2",
            "--permutations", "200", "--bootstrap", "100", "--out", dir);
        Assert.True(run.ExitCode == 0, run.Error);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json")));
        var r = doc.RootElement.GetProperty("imageSpace");
        double agreement = r.GetProperty("dslSeedAgreement").GetDouble();
        Assert.InRange(agreement, -1.0, 1.0);
        Assert.NotEqual(1.0, agreement); // two seeds, two noise draws: the scores are not identical
        var p0 = File.ReadAllBytes(Directory.GetFiles(Path.Combine(dir, "pictures", "seed-0", "image0-dsl-heads"), "*.png").Order().First());
        var p1 = File.ReadAllBytes(Directory.GetFiles(Path.Combine(dir, "pictures", "seed-1", "image0-dsl-heads"), "*.png").Order().First());
        Assert.NotEqual(p0, p1);
    }

    [Theory]
    [InlineData("one seed", new[] { "--decoder-seeds", "3" }, "--decoder-seeds")]
    [InlineData("bad seed", new[] { "--decoder-seeds", "1,x" }, "'x'")]
    [InlineData("no images", new[] { "--image-count", "0" }, "--image-count")]
    [InlineData("no decoder", new[] { "--no-decode" }, "decoder")]
    public async Task BadSettingsExitWithOneLine(string name, string[] extra, string mentioned)
    {
        _ = name;
        var dir = Fixtures.TempFolder();
        var run = await CliRun.Public(new[] { "image-scores", "--encoder", CliRun.GoldenEncoder, "--synthetic", "4", "--out", dir }.Concat(extra).ToArray());
        run.AssertOneLineError(1, mentioned);
    }
}
