using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary>Interrupted decoding sweeps resume without redoing finished pictures and without losing any.</summary>
public sealed class CliResumeTests
{
    private const int Heads = 8; // golden CLIP: 2 layers × 4 heads

    private static string[] Rank(string outDir, params string[] extra) =>
        new[] { "rank", "--encoder", CliRun.GoldenEncoder, "--out", outDir, "--batch-size", "1" }.Concat(extra).ToArray();

    [Fact]
    public async Task CancelledSweepResumesWithoutRedoingFinishedPictures()
    {
        var reference = Fixtures.TempFolder();
        var full = new FakeRenderer(24);
        var a = await CliRun.WithHost(Rank(reference), full);
        Assert.True(a.ExitCode == 0, a.Error);
        Assert.Equal(2 * Heads, full.Rendered);

        // Interrupt after k = 3 finished pictures of the DSL sweep (DSL and DL pictures are decoded in one pass).
        var dir = Fixtures.TempFolder();
        using var cts = new CancellationTokenSource();
        var first = new FakeRenderer(24);
        var b = await CliRun.WithHost(Rank(dir), first, p =>
        {
            if (p.Stage == "decode dsl-heads+dl-heads" && p.Completed == 3) cts.Cancel(); // the DSL pictures come first
        }, cts.Token);
        Assert.Equal(1, b.ExitCode);
        Assert.Single(b.ErrorLines);
        Assert.Contains("--resume", b.Error);
        var sweep = Path.Combine(dir, "pictures", "dsl-heads");
        var done = Directory.GetFiles(sweep, "*.png").OrderBy(f => f, StringComparer.Ordinal).ToArray();
        Assert.Equal(3, done.Length);
        Assert.Equal(3, first.Rendered);
        var stamps = done.ToDictionary(f => f, File.GetLastWriteTimeUtc);
        Assert.Empty(Directory.GetFiles(sweep, "*.tmp"));

        var second = new FakeRenderer(24);
        var c = await CliRun.WithHost(Rank(dir, "--resume"), second);
        Assert.True(c.ExitCode == 0, c.Error);
        Assert.Equal(2 * Heads - 3, second.Rendered);
        foreach (var (f, t) in stamps) Assert.Equal(t, File.GetLastWriteTimeUtc(f));
        AssertSamePictures(reference, dir);
        Assert.Equal(File.ReadAllText(Path.Combine(reference, "results.csv")), File.ReadAllText(Path.Combine(dir, "results.csv")));
    }

    [Fact]
    public async Task DeletedOutputsAreRedoneAndNothingElse()
    {
        var dir = Fixtures.TempFolder();
        var a = await CliRun.WithHost(Rank(dir), new FakeRenderer(24));
        Assert.True(a.ExitCode == 0, a.Error);
        var reference = Fixtures.TempFolder();
        CopyPictures(dir, reference);
        File.Delete(Path.Combine(dir, "pictures", "dsl-heads", "L1H2.png"));
        File.Delete(Path.Combine(dir, "pictures", "dl-heads", "L0H0.json"));

        var again = new FakeRenderer(24);
        var b = await CliRun.WithHost(Rank(dir, "--resume"), again);
        Assert.True(b.ExitCode == 0, b.Error);
        Assert.Equal(2, again.Rendered);
        AssertSamePictures(reference, dir);
    }

    [Fact]
    public async Task WithoutResumeEverythingIsRedone()
    {
        var dir = Fixtures.TempFolder();
        Assert.Equal(0, (await CliRun.WithHost(Rank(dir), new FakeRenderer(24))).ExitCode);
        var again = new FakeRenderer(24);
        Assert.Equal(0, (await CliRun.WithHost(Rank(dir), again)).ExitCode);
        Assert.Equal(2 * Heads, again.Rendered);
    }

    /// <summary>
    /// A picture denoised in a batch is not bit-identical to one denoised alone, so <c>--denoise-batch</c> is part of
    /// every picture's settings key: switching it on <c>--resume</c> redoes the pictures; repeating it reuses them.
    /// </summary>
    [Fact]
    public async Task BatchedAndSinglePicturesNeverStandInForEachOther()
    {
        var dir = Fixtures.TempFolder();
        Assert.Equal(0, (await CliRun.WithHost(Rank(dir), new FakeRenderer(24))).ExitCode);
        var batched = new FakeRenderer(24);
        var b = await CliRun.WithHost(Rank(dir, "--resume", "--denoise-batch", "2"), batched);
        Assert.True(b.ExitCode == 0, b.Error);
        Assert.Equal(2 * Heads, batched.Rendered);
        var again = new FakeRenderer(24);
        Assert.Equal(0, (await CliRun.WithHost(Rank(dir, "--resume", "--denoise-batch", "2"), again)).ExitCode);
        Assert.Equal(0, again.Rendered);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json")));
        Assert.Equal("2", json.RootElement.GetProperty("provenance").GetProperty("settings").GetProperty("denoise-batch").GetString());
    }

    [Fact]
    public async Task ChangedSettingsAreNotReused()
    {
        var dir = Fixtures.TempFolder();
        Assert.Equal(0, (await CliRun.WithHost(Rank(dir), new FakeRenderer(24))).ExitCode);
        var again = new FakeRenderer(24);
        // A different steering function changes every DSL embedding; DL read-outs are unchanged and reused.
        Assert.Equal(0, (await CliRun.WithHost(Rank(dir, "--resume", "--steer", "scale:4"), again)).ExitCode);
        Assert.Equal(Heads, again.Rendered);
    }

    private static void CopyPictures(string from, string to)
    {
        foreach (var f in Directory.GetFiles(Path.Combine(from, "pictures"), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, f));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(f, target);
        }
    }

    private static void AssertSamePictures(string expectedRoot, string actualRoot)
    {
        foreach (var sweep in new[] { "dsl-heads", "dl-heads" })
        {
            var want = Directory.GetFiles(Path.Combine(expectedRoot, "pictures", sweep), "*.png").Select(Path.GetFileName).OrderBy(f => f).ToArray();
            var got = Directory.GetFiles(Path.Combine(actualRoot, "pictures", sweep), "*.png").Select(Path.GetFileName).OrderBy(f => f).ToArray();
            Assert.Equal(Heads, want.Length);
            Assert.Equal(want, got);
            foreach (var f in want)
                Assert.Equal(File.ReadAllBytes(Path.Combine(expectedRoot, "pictures", sweep, f!)), File.ReadAllBytes(Path.Combine(actualRoot, "pictures", sweep, f!)));
        }
    }
}
