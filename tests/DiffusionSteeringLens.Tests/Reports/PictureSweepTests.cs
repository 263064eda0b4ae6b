using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Tests.Cli;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Reports;

/// <summary>The library's resumable picture sweep (the mechanism behind --resume).</summary>
public sealed class PictureSweepTests
{
    [Fact]
    public void InterruptedSweepResumesAndMatchesAnUninterruptedOne()
    {
        using var e = torch.randn(new long[] { 7, 24 }, generator: new torch.Generator(5));
        var labels = Enumerable.Range(0, 7).Select(i => $"t:{i}").ToArray();

        var whole = new FakeRenderer(24);
        using var expected = new PictureSweep(Fixtures.TempFolder(), whole.Render, "k", batchSize: 2).Run("s", labels, e);

        var dir = Fixtures.TempFolder();
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p => { if (p.Completed >= 4) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => new PictureSweep(dir, new FakeRenderer(24).Render, "k", 2).Run("s", labels, e, progress, cts.Token));
        Assert.Equal(4, Directory.GetFiles(Path.Combine(dir, "s"), "*.png").Length);

        var resumed = new FakeRenderer(24);
        var sweep = new PictureSweep(dir, resumed.Render, "k", 2, resume: true);
        using var got = sweep.Run("s", labels, e);
        Assert.Equal(3, resumed.Rendered);
        Assert.Equal(4, sweep.ReusedCount);
        TensorAssert.Equal(expected, got, "resumed pictures");
        Assert.True(File.Exists(sweep.PicturePath("s", "t:3")));
        Assert.EndsWith("t_3.png", sweep.PicturePath("s", "t:3"));
    }

    [Fact]
    public void ChangedSettingsKeyOrEmbeddingIsReRendered()
    {
        using var e = torch.randn(new long[] { 3, 24 }, generator: new torch.Generator(6));
        var labels = new[] { "a", "b", "c" };
        var dir = Fixtures.TempFolder();
        using (new PictureSweep(dir, new FakeRenderer(24).Render, "k1").Run("s", labels, e)) { }
        var other = new FakeRenderer(24);
        using (new PictureSweep(dir, other.Render, "k2", resume: true).Run("s", labels, e)) { }
        Assert.Equal(3, other.Rendered);
        e[1].add_(1f);
        var third = new FakeRenderer(24);
        using (new PictureSweep(dir, third.Render, "k2", resume: true).Run("s", labels, e)) { }
        Assert.Equal(1, third.Rendered);
    }

    /// <summary>
    /// Several sweeps rendered together share the decoder calls (5 pictures to render in batches of 2: 3 calls, one of
    /// them with a picture of each sweep), store each picture in its own sweep, return what separate runs return, and
    /// resume like one sweep: the finished pictures of either sweep are reused.
    /// </summary>
    [Fact]
    public void SweepsRenderedTogetherShareDecoderCallsAndResumeAlike()
    {
        using var a = torch.randn(new long[] { 3, 24 }, generator: new torch.Generator(7));
        using var b = torch.randn(new long[] { 2, 24 }, generator: new torch.Generator(8));
        var labelsA = new[] { "x", "y", "z" };
        var labelsB = new[] { "x", "w" };
        var separate = new FakeRenderer(24);
        var alone = new PictureSweep(Fixtures.TempFolder(), separate.Render, "k", batchSize: 2);
        using var expectedA = alone.Run("a", labelsA, a);
        using var expectedB = alone.Run("b", labelsB, b);
        Assert.Equal(2 + 1, separate.Calls);

        var dir = Fixtures.TempFolder();
        var together = new FakeRenderer(24);
        var sweep = new PictureSweep(dir, together.Render, "k", batchSize: 2);
        var got = sweep.RunMany(new (string, IReadOnlyList<string>, torch.Tensor)[] { ("a", labelsA, a), ("b", labelsB, b) });
        using (got[0])
        using (got[1])
        {
            Assert.Equal(3, together.Calls);                                    // [a.x, a.y], [a.z, b.x], [b.w]
            Assert.Equal(5, sweep.RenderedCount);
            TensorAssert.Equal(expectedA, got[0], "sweep a rendered together");
            TensorAssert.Equal(expectedB, got[1], "sweep b rendered together");
            Assert.True(File.Exists(sweep.PicturePath("a", "x")) && File.Exists(sweep.PicturePath("b", "x")));
        }

        File.Delete(sweep.PicturePath("a", "y"));                                // one picture of sweep a lost
        var resumed = new FakeRenderer(24);
        var again = new PictureSweep(dir, resumed.Render, "k", batchSize: 2, resume: true);
        var back = again.RunMany(new (string, IReadOnlyList<string>, torch.Tensor)[] { ("a", labelsA, a), ("b", labelsB, b) });
        using (back[0])
        using (back[1])
        {
            Assert.Equal(1, resumed.Rendered);
            Assert.Equal(4, again.ReusedCount);
            TensorAssert.Equal(expectedA, back[0], "sweep a resumed");
        }
        Assert.Throws<ArgumentException>(() => again.RunMany(new (string, IReadOnlyList<string>, torch.Tensor)[] { ("a", labelsA, a), ("a", labelsB, b) }));
    }

    /// <summary>Reports synchronously (System.Progress posts to the thread pool).</summary>
    private sealed class SyncProgress(Action<LensProgress> action) : IProgress<LensProgress>
    {
        public void Report(LensProgress value) => action(value);
    }
}
