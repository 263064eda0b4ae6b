using DiffusionSteeringLens.Synthetic;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Tests.Cli;
using DiffusionSteeringLens.Tests.TestSupport;
using DiffusionSteeringLens.Tests.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Reports;

/// <summary>The library's demo pipeline returns every result record a report needs.</summary>
public sealed class DemoPipelineTests
{
    [Fact]
    public void DemoReturnsAllRecordsAndPictures()
    {
        using var vit = GoldenClip.Load();
        var processor = ClipImageProcessor.Load(GoldenClip.Folder);
        using var rgb = DemoImages.Disc(64);
        using var input = PreparedInput.FromRgb(processor, new[] { rgb });
        var renderer = new FakeRenderer(24);
        var sweep = new PictureSweep(Fixtures.TempFolder(), renderer.Render, "test", batchSize: 3);
        var context = new StudyContext(vit, input, sweep);
        using var images = SyntheticStudyImages.Shapes(processor, evaluationCount: 6, seed: 1, calibrationCount: 4, referenceCount: 5);
        var settings = new ValidationSettings { Permutations = 100, Bootstrap = 50, RandomOrders = 40, TrajectorySteps = 5, Ablation = DiffusionSteeringLens.Analysis.AblationKind.Mean };
        using var demo = DemoPipeline.Run(context, images, new DemoOptions { Validation = settings, ShownTopHeads = 3, ShownBottomHeads = 2 });

        var r = demo.Results;
        Assert.Equal(2, r.LayerSweep!.Count);
        Assert.Equal(8, r.Heads!.Count);
        // Every head is scored in embedding space; only the shown heads are decoded.
        Assert.All(r.Heads, h => Assert.Null(h.DslImageScore));
        Assert.Equal(Enumerable.Range(1, 8), r.Heads.Select(h => h.DslRank).OrderBy(x => x));
        Assert.Equal(new[] { 1, 2, 3, 7, 8 }, demo.ShownHeads.Select(h => h.DslRank));
        Assert.Equal(demo.ShownHeads.Select(h => h.Head.Label), demo.ShownDsl!.Readouts.Select(x => x.Target));
        Assert.Equal(2 * 5, r.Targets!.Count);
        Assert.All(r.Targets, t => Assert.True(t.ImageSimilarity.HasValue));
        var v = r.Validation!;
        Assert.Equal(ScoreSpace.Embedding, v.ScoreSpace);
        Assert.Equal(DiffusionSteeringLens.Analysis.AblationKind.Mean, v.Ablation);                     // the demo's ablation is the option's, not hard-coded
        Assert.All(v.Heads, h => Assert.True(h.Importance.HasValue && h.OutputNorm.HasValue));
        Assert.Equal(6, v.PerImage.Count);
        Assert.Equal(6, v.Trajectories.Dsl.Similarity.Count);
        Assert.Equal(40, v.Trajectories.RandomAucs.Count);
        Assert.Equal((4, 6), (v.Trajectories.CalibrationImages, v.Lenses[0].Correlation.Images));
        Assert.Equal(2, r.Overlay!.TopHeads.Count);
        Assert.Equal(new long[] { 2, 3, 16, 16 }, demo.LayerSweep.Pictures!.shape);
        Assert.Null(demo.Ranking.DslPictures);
        Assert.Equal(new long[] { 5, 3, 16, 16 }, demo.ShownDsl.Pictures!.shape);
        Assert.Equal(new long[] { 5, 3, 16, 16 }, demo.ShownDl!.Pictures!.shape);
        Assert.Equal(new long[] { 2, 3, 16, 16 }, demo.Overlay!.Pictures!.shape);
        Assert.Equal(2 + 5 + 5 + 2, renderer.Rendered);                          // layer sweep, shown heads (DSL, DL), overlay
        // The last resid_post read-out is the model output itself.
        Assert.Equal(1.0, r.LayerSweep[^1].EmbeddingSimilarity, 6);
    }

    [Fact]
    public void ShownHeadsAreTheTopAndBottomByDslRankWithoutRepeats()
    {
        var rows = Enumerable.Range(0, 96).Select(i => new HeadScoreRow(new DiffusionSteeringLens.Lenses.HeadTarget(i / 12, i % 12),
            DslScore: -i, DslRank: 96 - i, DlScore: 0, DlRank: 1)).ToArray();
        var shown = DemoPipeline.ShownHeads(rows, 8, 4);
        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6, 7, 8, 93, 94, 95, 96 }, shown.Select(h => h.DslRank));
        Assert.Equal("L7H11", shown[0].Head.Label);                              // rank 1 is the last row here
        var few = DemoPipeline.ShownHeads(rows.Take(10).Select((r, i) => r with { DslRank = i + 1 }).ToArray(), 8, 4);
        Assert.Equal(Enumerable.Range(1, 10), few.Select(h => h.DslRank));        // 10 heads: every head once
    }

    [Fact]
    public void ImageScoresAverageEveryImageOfTheBatch()
    {
        using var vit = GoldenClip.Load();
        var processor = ClipImageProcessor.Load(GoldenClip.Folder);
        using var disc = DemoImages.Disc(64);
        using var square = DemoImages.Square(64);
        using var input = PreparedInput.FromRgb(processor, new[] { disc, square });
        var heads = DiffusionSteeringLens.Lenses.LensTarget.AllHeads(vit.Architecture);
        var renderer = new FakeRenderer(24);
        ReadoutSweep Read(PreparedInput x) =>
            LensStudy.Readouts(new StudyContext(vit, x, new PictureSweep(Fixtures.TempFolder(), renderer.Render, "test", batchSize: 4)),
                new DiffusionSteeringLens.Lenses.DiffusionLens(vit), heads, "heads");
        using var both = Read(input);
        Assert.Equal(2 * heads.Count, renderer.Rendered);                          // every image is decoded, not only the first
        double[] Alone(int i)
        {
            using var one = new PreparedInput(input.Pixels.narrow(0, i, 1).clone(), input.Pictures.narrow(0, i, 1).clone());
            using var r = Read(one);
            return r.Readouts.Select(x => x.ImageSimilarity!.Value).ToArray();
        }
        var first = Alone(0);
        var second = Alone(1);
        for (int i = 0; i < heads.Count; i++)
            Assert.Equal((first[i] + second[i]) / 2, both.Readouts[i].ImageSimilarity!.Value, 6);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void PreparedInputFromPixelsRecoversThePicture()
    {
        var processor = ClipImageProcessor.Load(GoldenClip.Folder);
        using var rgb = DemoImages.Square(16);
        using var a = PreparedInput.FromRgb(processor, new[] { rgb });
        using var b = PreparedInput.FromPixels(a.Pixels, processor.Config);
        TensorAssert.CloseAbsolute(a.Pictures, b.Pictures, 1e-5, "pictures from pixel values");
        TensorAssert.Equal(a.Pixels, b.Pixels, "pixels");
    }
}
