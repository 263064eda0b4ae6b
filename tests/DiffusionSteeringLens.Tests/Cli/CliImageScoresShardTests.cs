using System.Text.Json;
using System.Text.Json.Nodes;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary><c>dsl image-scores --shard i/n</c> and <c>dsl merge</c>: merged picture-space shards reproduce the unsharded study exactly.</summary>
public sealed class CliImageScoresShardTests
{
    // 3 images in blocks of 1 (LensStudy.ImageSpaceBlockSize): shard 0/2 takes image 0, shard 1/2 images 1 and 2.
    private static string[] ImageScores(string dir, string seeds, params string[] extra) => ImageScoresWith(CliRun.GoldenEncoder, "3", dir, seeds, extra);

    private static string[] ImageScoresWith(string encoder, string imageCount, string dir, string seeds, params string[] extra) => new[]
    {
        "image-scores", "--encoder", encoder, "--synthetic", "4", "--image-count", imageCount, "--decoder-seeds", seeds, "--image-seed", "2",
        "--permutations", "200", "--bootstrap", "100", "--out", dir,
    }.Concat(extra).ToArray();

    /// <summary>Runs with the stand-in renderer (the golden encoder's P = 24) and returns the output folder.</summary>
    private static async Task<string> Run(params string[] args) =>
        (await CliRun.WithHost(args, new FakeRenderer(embeddingDim: 24))).OutFolder(args);

    private static int[] MeasuredImages(string dir) => CliRun.Results(dir)["imageSpaceShard"]!["perImage"]!.AsArray().Select(p => (int)p!["image"]!).ToArray();

    [Fact]
    public async Task TwoShardsMergedEqualOneUnshardedRun()
    {
        var whole = await Run(ImageScores(Fixtures.TempFolder(), "5,7"));
        var shard0 = await Run(ImageScores(Fixtures.TempFolder(), "5,7", "--shard", "0/2"));
        var shard1 = await Run(ImageScores(Fixtures.TempFolder(), "5,7", "--shard", "1/2"));
        var merged = Fixtures.TempFolder();
        // Given in reverse order, one as a folder and one as its results file: merge orders shards by index.
        var mergeRun = await CliRun.Public("merge", Path.Combine(shard1, "results.json"), shard0, "--out", merged);
        Assert.True(mergeRun.ExitCode == 0, mergeRun.Error);

        Assert.Equal(new[] { 0 }, MeasuredImages(shard0));
        Assert.Equal(new[] { 1, 2 }, MeasuredImages(shard1));
        Assert.Null(CliRun.Results(shard0)["imageSpace"]);                              // a shard alone computes no statistics
        // Each shard decoded only its own images, into the folders an unsharded run uses.
        Assert.True(Directory.Exists(Path.Combine(shard1, "pictures", "seed-7", "image2-dl-heads")));
        Assert.False(Directory.Exists(Path.Combine(shard1, "pictures", "seed-7", "image0-dl-heads")));
        var perImage = CliRun.Results(shard1)["imageSpaceShard"]!["perImage"]![0]!;
        Assert.Equal(2, perImage["dslPictures"]!.AsArray().Count);                // one score vector per decoder seed
        Assert.Equal(8, perImage["dslPictures"]![1]!.AsArray().Count);            // 2 layers × 4 heads

        var result = CliRun.Results(merged);
        Assert.Equal("image-scores", (string?)result["command"]);
        Assert.Equal((string?)CliRun.Results(whole)["decoder"], (string?)result["decoder"]);
        Assert.Equal((string?)CliRun.Results(whole)["images"], (string?)result["images"]);
        var expected = CliRun.Results(whole)["imageSpace"]!;
        var actual = result["imageSpace"]!;
        Assert.Equal(3, expected["perImage"]!.AsArray().Count);
        Assert.Equal(5, expected["lenses"]!.AsArray().Count);
        // Per-image scores bit for bit (JSON keeps doubles round-trip exact) and every statistic: ρ, p, CIs, Δρ, seed agreement.
        foreach (var key in new[] { "perImage", "lenses", "dslVsDl", "dslSeedAgreement", "dlSeedAgreement", "silentHeads", "warnings", "decoderSeeds" })
            Assert.True(JsonNode.DeepEquals(expected[key], actual[key]), $"merged '{key}' differs from the unsharded run");
        Assert.True(JsonNode.DeepEquals(expected, actual));
        Assert.Contains("seed agreement", mergeRun.Out);                          // the verdicts are logged as image-scores logs them
        Assert.Contains("Picture-space validation", File.ReadAllText(Path.Combine(merged, "report.html")));
    }

    [Fact]
    public async Task ShardsThatDoNotFitAreRefusedWithOneLine()
    {
        var dir = Fixtures.TempFolder();
        var shard0 = await Run(ImageScores(Path.Combine(dir, "shard0"), "5,7", "--shard", "0/2"));
        var otherSeeds = await Run(ImageScores(Path.Combine(dir, "seeds"), "5,8", "--shard", "1/2"));
        var otherDecodeSettings = await Run(ImageScores(Path.Combine(dir, "steps"), "5,7", "--shard", "1/2", "--steps", "3"));
        var otherImageCount = await Run(ImageScoresWith(CliRun.GoldenEncoder, "4", Path.Combine(dir, "count"), "5,7", "--shard", "1/2"));
        // Another model of the same shape (random weights, same config): only the weights fingerprint tells it apart.
        var otherEncoder = Path.Combine(dir, "random-encoder");
        var make = await CliRun.Public("make-random", "image_encoder", "--config", Path.Combine(CliRun.GoldenEncoder, "config.json"), "--out", otherEncoder, "--seed", "1");
        Assert.True(make.ExitCode == 0, make.Error);
        var otherModel = await Run(ImageScoresWith(otherEncoder, "3", Path.Combine(dir, "model"), "5,7", "--shard", "1/2"));

        var outDir = Path.Combine(dir, "merged");
        (await CliRun.Public("merge", shard0, otherSeeds, "--out", outDir)).AssertOneLineError(1, "decoder seeds differ");
        (await CliRun.Public("merge", shard0, otherDecodeSettings, "--out", outDir)).AssertOneLineError(1, "decoders or decode settings differ");
        (await CliRun.Public("merge", shard0, otherImageCount, "--out", outDir)).AssertOneLineError(1, "image counts");
        (await CliRun.Public("merge", shard0, otherModel, "--out", outDir)).AssertOneLineError(1, "encoder weights");
        (await CliRun.Public("merge", shard0, "--out", outDir)).AssertOneLineError(1, "missing shard 1/2");
        (await CliRun.Public("merge", shard0, shard0, "--out", outDir)).AssertOneLineError(1, "overlapping");
        Assert.False(File.Exists(Path.Combine(outDir, "results.json")));

        // The statistics need every image: one shard alone is refused by the library too.
        var single = CliRun.Results(shard0)["imageSpaceShard"].Deserialize<ImageSpaceMeasurements>(ResultsWriter.JsonOptions)!;
        var e = Assert.Throws<ArgumentException>(() => LensStudy.ImageSpaceStatistics(single));
        Assert.Contains("merge the shards first", e.Message);
    }

    [Fact]
    public async Task ValidateAndImageScoresShardsAreNotMergedTogether()
    {
        var imageScores = await Run(ImageScores(Fixtures.TempFolder(), "5,7", "--shard", "0/2"));
        var validate = Fixtures.TempFolder();
        var run = await CliRun.Public("validate", "--encoder", CliRun.GoldenEncoder, "--no-decode", "--synthetic", "4", "--image-seed", "2",
            "--permutations", "60", "--bootstrap", "40", "--random-orders", "15", "--trajectory-steps", "3", "--trajectory-images", "2",
            "--shard", "0/1", "--out", validate);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.NotNull(CliRun.Results(validate)["validationShard"]);
        var outDir = Fixtures.TempFolder();
        (await CliRun.Public("merge", validate, imageScores, "--out", outDir)).AssertOneLineError(1, "one study at a time");
        (await CliRun.Public("merge", imageScores, validate, "--out", outDir)).AssertOneLineError(1, "one study at a time");
        Assert.False(File.Exists(Path.Combine(outDir, "results.json")));
    }

    [Theory]
    [InlineData("5/4", "0 ≤ i < n")]
    [InlineData("1", "i/n")]
    [InlineData("0/4", "at most 3 shards")]
    public async Task BadShardOptionIsAOneLineUsageError(string shard, string mentioned)
    {
        var run = await CliRun.WithHost(ImageScores(Fixtures.TempFolder(), "5,7", "--shard", shard), new FakeRenderer(embeddingDim: 24));
        run.AssertOneLineError(1, mentioned);
    }
}
