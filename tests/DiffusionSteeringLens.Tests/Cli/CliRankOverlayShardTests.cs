using System.Text.Json;
using System.Text.Json.Nodes;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary>
/// <c>dsl rank --shard i/n</c> and <c>dsl overlay --shard i/n</c> with <c>dsl merge</c>: merged shards reproduce the
/// unsharded image-set ranking and overlay study exactly, and shards that do not fit are refused with one line.
/// </summary>
public sealed class CliRankOverlayShardTests
{
    // 20 evaluation images = ranking blocks of 8, 8, 4: shard 0/2 takes images 0–7, shard 1/2 images 8–19.
    private static string[] Rank(string dir, params string[] extra) => new[]
    {
        "rank", "--encoder", CliRun.GoldenEncoder, "--no-decode", "--synthetic", "20", "--image-seed", "3", "--out", dir,
    }.Concat(extra).ToArray();

    // 10 overlay images = blocks of 4, 4, 2; k = 2 of the golden encoder's 8 heads gives 28 subsets (all of them compared),
    // and two planted heads add the planted rows, so every row kind crosses the shard boundaries.
    private static string[] Overlay(string dir, params string[] extra) => OverlayWith(dir, "2", "10", extra);

    private static string[] OverlayWith(string dir, string topK, string images, params string[] extra) => new[]
    {
        "overlay", "--encoder", CliRun.GoldenEncoder, "--no-decode", "--synthetic", "20", "--image-seed", "3", "--overlay-images", images,
        "--top-k", topK, "--subsets", "300", "--planted-heads", "L1H2,L0H1", "--out", dir,
    }.Concat(extra).ToArray();

    private static Task<string> Run(params string[] args) => CliRun.Succeeds(args);

    private static int[] Images(string dir, string section) =>
        CliRun.Results(dir)[section]!["perImage"]!.AsArray().Select(p => (int)p!["image"]!).ToArray();

    [Fact]
    public async Task TwoRankShardsMergedEqualTheUnshardedImageSetRanking()
    {
        var whole = await Run(Rank(Fixtures.TempFolder()));
        var shard0 = await Run(Rank(Fixtures.TempFolder(), "--shard", "0/2"));
        var shard1 = await Run(Rank(Fixtures.TempFolder(), "--shard", "1/2"));
        var merged = await Run("merge", shard1, Path.Combine(shard0, "results.json"), "--out", Fixtures.TempFolder());

        Assert.Equal(Enumerable.Range(0, 8), Images(shard0, "imageRankingShard"));
        Assert.Equal(Enumerable.Range(8, 12), Images(shard1, "imageRankingShard"));
        Assert.Null(CliRun.Results(shard0)["imageRanking"]);                            // a shard alone ranks nothing

        var expected = CliRun.Results(whole)["imageRanking"]!;
        Assert.Equal(20, expected["perImage"]!.AsArray().Count);
        Assert.Equal(8, expected["heads"]!.AsArray().Count);
        Assert.NotNull(expected["perImage"]![0]!["directEffect"]);
        // Per-image scores and every head's means and ranks, bit for bit (JSON keeps doubles round-trip exact).
        Assert.True(JsonNode.DeepEquals(expected, CliRun.Results(merged)["imageRanking"]), "the merged image-set ranking differs from the unsharded run");
        Assert.True(File.Exists(Path.Combine(merged, "report.html")));
    }

    [Fact]
    public async Task ThreeOverlayShardsMergedEqualTheUnshardedStudy()
    {
        var whole = await Run(Overlay(Fixtures.TempFolder()));
        var shards = new List<string>();
        for (int i = 0; i < 3; i++) shards.Add(await Run(Overlay(Fixtures.TempFolder(), "--shard", $"{i}/3")));
        var merged = await Run(new[] { "merge" }.Concat(shards.AsEnumerable().Reverse()).Concat(new[] { "--out", Fixtures.TempFolder() }).ToArray());

        Assert.Equal(new[] { 0, 1, 2, 3 }, Images(shards[0], "overlayShard"));
        Assert.Equal(new[] { 4, 5, 6, 7 }, Images(shards[1], "overlayShard"));
        Assert.Equal(new[] { 8, 9 }, Images(shards[2], "overlayShard"));
        Assert.Null(CliRun.Results(shards[0])["overlay"]);                              // a shard alone compares nothing
        // One value per head set: none, DSL, DL-on-heads, output-change norm, the planted pair and each planted head, 28 subsets.
        Assert.Equal(4 + 3 + 28, CliRun.Results(shards[0])["overlayShard"]!["perImage"]![0]!["presence"]!.AsArray().Count);

        var expected = CliRun.Results(whole)["overlay"]!;
        Assert.Equal(10, (int)expected["evaluationImages"]!);
        Assert.Equal(28, (int)expected["subsetsCompared"]!);
        Assert.True((bool)expected["exhaustive"]!);
        Assert.Equal(3, expected["planted"]!.AsArray().Count);
        Assert.True(JsonNode.DeepEquals(expected, CliRun.Results(merged)["overlay"]), "the merged overlay study differs from the unsharded run");
        Assert.Equal((string?)CliRun.Results(whole)["overlayVerdict"], (string?)CliRun.Results(merged)["overlayVerdict"]);
    }

    [Fact]
    public async Task ShardsThatDoNotFitAreRefusedWithOneLine()
    {
        var overlay0 = await Run(Overlay(Fixtures.TempFolder(), "--shard", "0/2"));
        var otherK = await Run(OverlayWith(Fixtures.TempFolder(), "3", "10", "--shard", "1/2"));
        var fewerImages = await Run(OverlayWith(Fixtures.TempFolder(), "2", "9", "--shard", "1/2"));
        var rank1 = await Run(Rank(Fixtures.TempFolder(), "--shard", "1/2"));
        var outDir = Fixtures.TempFolder();
        (await CliRun.Public("merge", overlay0, "--out", outDir)).AssertOneLineError(1, "missing shard 1/2");
        (await CliRun.Public("merge", overlay0, otherK, "--out", outDir)).AssertOneLineError(1, "overlay settings");
        (await CliRun.Public("merge", overlay0, fewerImages, "--out", outDir)).AssertOneLineError(1, "image sets differ");
        (await CliRun.Public("merge", overlay0, rank1, "--out", outDir)).AssertOneLineError(1, "one study at a time");
        (await CliRun.Public(Overlay(Fixtures.TempFolder(), "--shard", "0/4"))).AssertOneLineError(1, "at most 3 shards");
        (await CliRun.Public(Rank(Fixtures.TempFolder(), "--shard", "3/3"))).AssertOneLineError(1, "0 ≤ i < n");
        Assert.False(File.Exists(Path.Combine(outDir, "results.json")));

        // Shards whose calibration picked other heads (another machine's rounding flipping a near-tie, say) ablated other
        // sets: their presences do not describe one study. Checked on the measurements, as the CLI reads them.
        var a = OverlayShard(overlay0);
        var b = OverlayShard(await Run(Overlay(Fixtures.TempFolder(), "--shard", "1/2")));
        var swapped = b with { LensScores = b.LensScores.Select(s => -s).ToArray() };
        var e = Assert.Throws<ShardMismatchException>(() => LensStudy.MergeOverlay(new[] { a, swapped }));
        Assert.Contains("head sets chosen on the calibration images", e.Message);
        var partial = Assert.Throws<ArgumentException>(() => LensStudy.OverlayStatistics(a));
        Assert.Contains("merge the shards first", partial.Message);
        using var outcome = LensStudy.OverlayStatistics(LensStudy.MergeOverlay(new[] { a, b }));
        Assert.Equal(10, outcome.Result.EvaluationImages);
    }

    private static OverlayMeasurements OverlayShard(string dir) =>
        CliRun.Results(dir)["overlayShard"].Deserialize<OverlayMeasurements>(ResultsWriter.JsonOptions)!;
}
