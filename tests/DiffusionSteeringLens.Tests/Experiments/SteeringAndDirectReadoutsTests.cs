using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Synthetic;
using DiffusionSteeringLens.Tests.Cli;
using DiffusionSteeringLens.Tests.TestSupport;
using DiffusionSteeringLens.Tests.Vit;

namespace DiffusionSteeringLens.Tests.Experiments;

/// <summary>
/// <c>dsl steer</c>, <c>rank</c>, the picture-space validation and the demo read DSL and DL-on-the-same-targets from one
/// encoder pass: the results must be those of the separate lens calls, bit for bit, at a quarter of the passes (DSL
/// closed form + DL forward + two clean forwards before), and with each input picture embedded once for scoring both
/// lenses' pictures. A DL study alone (<c>dsl lens</c>, the layer sweep) takes the
/// clean output from its own cached run.
/// </summary>
public sealed class SteeringAndDirectReadoutsTests
{
    private static LensTarget[] Targets(ClipVisionModelWithProjection vit) =>
        LensTarget.AllHeads(vit.Architecture).Cast<LensTarget>().Concat(LensTarget.AllMlps(vit.Architecture)).ToArray();

    [Fact]
    public void OneCachedForwardGivesTheDslDlAndCleanOutputsOfTheSeparateCalls()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var targets = Targets(vit);
        var lens = new SteeringLens(vit, new SteeringOptions { Steering = new RelativeSteering(1.5) });
        Assert.True(lens.UsesClosedForm);
        long before = vit.PassCount;
        using var both = lens.ComputeWithDirect(pixels, targets);
        Assert.Equal(1, vit.PassCount - before);
        using var dsl = lens.ComputeEmbeddings(pixels, targets);
        using var dl = new DiffusionLens(vit).ComputeEmbeddings(pixels, targets);
        using var clean = vit.Forward(pixels);
        TensorAssert.Equal(dsl, both.Steered, "DSL read-outs");
        TensorAssert.Equal(dl, both.Direct, "DL read-outs");
        TensorAssert.Equal(clean, both.Clean, "clean output");
    }

    [Fact]
    public void HookBasedOptionsFallBackToTheSeparateCalls()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var targets = LensTarget.AllHeads(vit.Architecture).Take(3).Cast<LensTarget>().ToArray();
        var lens = new SteeringLens(vit, new SteeringOptions { Steering = new ScaleSteering(2), Patching = PatchingMode.FreezeAttention });
        Assert.False(lens.UsesClosedForm);
        using var both = lens.ComputeWithDirect(pixels, targets);
        using var dsl = lens.ComputeEmbeddings(pixels, targets);
        using var dl = new DiffusionLens(vit).ComputeEmbeddings(pixels, targets);
        TensorAssert.Equal(dsl, both.Steered, "hook-based DSL read-outs");
        TensorAssert.Equal(dl, both.Direct, "DL read-outs");
        Assert.Throws<ArgumentException>(() => new SteeringLens(vit, new SteeringOptions { Computation = DslComputation.ClosedForm, Patching = PatchingMode.FreezeAttention })
            .ComputeWithDirect(pixels, targets).Dispose());
    }

    [Fact]
    public void StudyReadoutsEqualTheTwoSeparateReadoutsIncludingPictureScores()
    {
        using var vit = GoldenClip.Load();
        var processor = ClipImageProcessor.Load(GoldenClip.Folder);
        using var disc = DemoImages.Disc(64);
        using var square = DemoImages.Square(64);
        using var input = PreparedInput.FromRgb(processor, new[] { disc, square });
        var targets = Targets(vit);
        var steering = new SteeringOptions { Steering = new RelativeSteering(2) };
        // Pictures are scored by a second copy of the encoder, so the pass count of `vit` is the lenses' alone.
        using var judge = GoldenClip.Load();
        var similarity = new EncoderImageSimilarity(judge, processor.Config.ImageMean, processor.Config.ImageStd);
        StudyContext Context(FakeRenderer r) => new(vit, input, new PictureSweep(Fixtures.TempFolder(), r.Render, "test", batchSize: 4), similarity);

        var oneRenderer = new FakeRenderer(vit.Architecture.OutputDim);
        long before = vit.PassCount, judgedBefore = judge.PassCount;
        var (dsl, dl) = LensStudy.SteeringAndDirectReadouts(Context(oneRenderer), steering, targets, "dsl", "dl");
        long passes = vit.PassCount - before, judged = judge.PassCount - judgedBefore;
        using (dsl)
        using (dl)
        {
            var separateRenderer = new FakeRenderer(vit.Architecture.OutputDim);
            var ctx = Context(separateRenderer);
            before = vit.PassCount;
            judgedBefore = judge.PassCount;
            using var dslAlone = LensStudy.Readouts(ctx, new SteeringLens(vit, steering), targets, "dsl");
            using var dlAlone = LensStudy.Readouts(ctx, new DiffusionLens(vit), targets, "dl");
            Assert.Equal(3, vit.PassCount - before);                              // DSL + a clean forward; DL's run gives its own clean output
            Assert.Equal(1, passes);                                              // one cached forward serves both lenses
            Assert.Equal(2 * (2 + 2), judge.PassCount - judgedBefore);             // per lens and image: its pictures, the input picture
            Assert.Equal(2 * (2 + 1), judged);                                    // the input picture embedded once for both lenses
            Assert.Equal(dslAlone.Readouts, dsl.Readouts);                        // records: scores bit for bit
            Assert.Equal(dlAlone.Readouts, dl.Readouts);
            Assert.Equal(2 * 2 * targets.Length, oneRenderer.Rendered);           // both lenses, both images decoded
            // Per image, DSL's and DL's pictures share the decoder calls (batches of 4 over 2 × targets) instead of
            // each lens filling its own: what lets a batching decoder denoise both lenses' pictures together.
            Assert.Equal(2 * ((2 * targets.Length + 3) / 4), oneRenderer.Calls);
            Assert.Equal(2 * 2 * ((targets.Length + 3) / 4), separateRenderer.Calls);
            Assert.All(dsl.Readouts.Concat(dl.Readouts), r => Assert.True(double.IsFinite(r.ImageSimilarity!.Value)));
            TensorAssert.Equal(dslAlone.Pictures!, dsl.Pictures!, "DSL pictures");
            TensorAssert.Equal(dlAlone.Pictures!, dl.Pictures!, "DL pictures");
        }
    }

    [Fact]
    public void DiffusionLensRunGivesTheCleanOutputOfAPlainForward()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var targets = LensTarget.LayerSweep(vit.Architecture).Concat(Targets(vit)).ToArray();
        var lens = new DiffusionLens(vit);
        long before = vit.PassCount;
        var (e, clean) = lens.ComputeWithClean(pixels, targets);
        using (e)
        using (clean)
        {
            Assert.Equal(1, vit.PassCount - before);
            using var alone = lens.ComputeEmbeddings(pixels, targets);
            using var forward = vit.Forward(pixels);
            TensorAssert.Equal(alone, e, "DL read-outs");
            TensorAssert.Equal(forward, clean, "clean output");
        }
    }
}
