using System.Text.Json;
using System.Text.Json.Nodes;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary><c>dsl validate --shard i/n</c> and <c>dsl merge</c>: merged shards reproduce the unsharded study exactly.</summary>
public sealed class CliShardMergeTests
{
    // 20 evaluation images = blocks of 8, 8, 4; shard 0/2 takes images 0–7, shard 1/2 images 8–19. The 10 trajectory
    // images span both shards.
    private static string[] Validate(string dir, params string[] extra) => ValidateWith(dir, "20", "60", extra);

    private static string[] ValidateWith(string dir, string images, string permutations, params string[] extra) => new[]
    {
        "validate", "--encoder", CliRun.GoldenEncoder, "--no-decode", "--synthetic", images, "--image-seed", "2", "--permutations", permutations,
        "--bootstrap", "40", "--random-orders", "15", "--trajectory-steps", "3", "--trajectory-images", "10", "--out", dir,
    }.Concat(extra).ToArray();

    private static Task<string> Run(params string[] args) => CliRun.Succeeds(args);

    [Fact]
    public async Task TwoShardsMergedEqualOneUnshardedRun()
    {
        var whole = await Run(Validate(Fixtures.TempFolder()));
        var shard0 = await Run(Validate(Fixtures.TempFolder(), "--shard", "0/2"));
        var shard1 = await Run(Validate(Fixtures.TempFolder(), "--shard", "1/2"));
        var merged = Fixtures.TempFolder();
        // Given in reverse order, one as a folder and one as its results file: merge orders shards by index.
        await Run("merge", Path.Combine(shard1, "results.json"), shard0, "--out", merged);

        var images0 = CliRun.Results(shard0)["validationShard"]!["perImage"]!.AsArray().Select(p => (int)p!["image"]!).ToArray();
        var images1 = CliRun.Results(shard1)["validationShard"]!["perImage"]!.AsArray().Select(p => (int)p!["image"]!).ToArray();
        Assert.Equal(Enumerable.Range(0, 8), images0);
        Assert.Equal(Enumerable.Range(8, 12), images1);
        Assert.Null(CliRun.Results(shard0)["validation"]);                              // a shard alone computes no statistics

        var expected = CliRun.Results(whole)["validation"]!;
        var actual = CliRun.Results(merged)["validation"]!;
        Assert.Equal(20, expected["perImage"]!.AsArray().Count);
        Assert.Equal(5, expected["lenses"]!.AsArray().Count);
        Assert.Equal(10, (int)expected["trajectories"]!["evaluationImages"]!);
        // Per-image matrices bit for bit (JSON keeps doubles round-trip exact) and every statistic: ρ, p, CIs, Δρ, trajectories.
        foreach (var key in new[] { "perImage", "lenses", "dslVsDl", "contrastVsDl", "trajectories", "heads", "silentHeads", "invisibleHeads", "warnings" })
            Assert.True(JsonNode.DeepEquals(expected[key], actual[key]), $"merged '{key}' differs from the unsharded run");
        Assert.True(JsonNode.DeepEquals(expected, actual));
        Assert.True(File.Exists(Path.Combine(merged, "report.html")));
    }

    [Fact]
    public async Task ShardsThatDoNotFitAreRefusedWithOneLine()
    {
        var shard0 = await Run(Validate(Fixtures.TempFolder(), "--shard", "0/2"));
        var otherSettings = await Run(ValidateWith(Fixtures.TempFolder(), "20", "61", "--shard", "1/2"));
        var ofThree = await Run(Validate(Fixtures.TempFolder(), "--shard", "1/3"));
        var otherImages = await Run(ValidateWith(Fixtures.TempFolder(), "21", "60", "--shard", "1/2"));
        var otherSteering = await Run(Validate(Fixtures.TempFolder(), "--shard", "1/2", "--steer", "global:2"));
        var outDir = Fixtures.TempFolder();
        (await CliRun.Public("merge", shard0, "--out", outDir)).AssertOneLineError(1, "missing shard 1/2");
        (await CliRun.Public("merge", shard0, shard0, "--out", outDir)).AssertOneLineError(1, "overlapping");
        (await CliRun.Public("merge", shard0, otherSettings, "--out", outDir)).AssertOneLineError(1, "protocol settings differ");
        (await CliRun.Public("merge", shard0, ofThree, "--out", outDir)).AssertOneLineError(1, "shard counts");
        (await CliRun.Public("merge", shard0, otherImages, "--out", outDir)).AssertOneLineError(1, "image sets differ");
        (await CliRun.Public("merge", shard0, otherSteering, "--out", outDir)).AssertOneLineError(1, "steering");
        (await CliRun.Public("merge", Path.Combine(outDir, "nope"), "--out", outDir)).AssertOneLineError(1, "nope");
        Assert.False(File.Exists(Path.Combine(outDir, "results.json")));

        // Another model: the weights fingerprint differs (checked on the measurements, as the CLI reads them).
        var a = Measurements(shard0);
        var b = Measurements(otherSettings) with { Settings = a.Settings, ModelFingerprint = "0123" };
        var e = Assert.Throws<ShardMismatchException>(() => ValidationStudy.Merge(new[] { a, b }));
        Assert.Contains("encoder weights", e.Message);
    }

    [Theory]
    [InlineData("2/2", "0 ≤ i < n")]
    [InlineData("1", "i/n")]
    [InlineData("0/4", "at most 3 shards")]
    public async Task BadShardOptionIsAOneLineUsageError(string shard, string mentioned)
    {
        var run = await CliRun.Public(Validate(Fixtures.TempFolder(), "--shard", shard));
        run.AssertOneLineError(1, mentioned);
    }

    private static ValidationMeasurements Measurements(string dir) =>
        CliRun.Results(dir)["validationShard"].Deserialize<ValidationMeasurements>(ResultsWriter.JsonOptions)!;
}
