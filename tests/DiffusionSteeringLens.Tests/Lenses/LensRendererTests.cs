using DiffusionSteeringLens.Decoding;
using System.Diagnostics;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Kandinsky;
using DiffusionSteeringLens.Models.Kandinsky.MoVq;
using DiffusionSteeringLens.Models.Kandinsky.Schedulers;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Tests.TestSupport;
using DiffusionSteeringLens.Tests.Vit;
using DiffusionSteeringLens.Tests.Kandinsky.Pipeline;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Lenses;

public sealed class LensRendererTests
{
    private static readonly KandinskyDecodeOptions Fast = new() { NumInferenceSteps = 3, GuidanceScale = 4, Height = 16, Width = 16, Seed = 40 };
    private readonly ITestOutputHelper _out;

    public LensRendererTests(ITestOutputHelper output) => _out = output;

    private static PaddedEmbeddingDecoder GoldenDecoder()
    {
        var unet = UNet2DConditionModel.FromPretrained(Fixtures.Golden("unet"));
        var movq = VqModel.FromPretrained(Fixtures.Golden("movq"));
        var scheduler = DdpmScheduler.FromPretrained(Path.Combine(Fixtures.Golden("scheduler"), "scheduler_config.json"));
        return new PaddedEmbeddingDecoder(new KandinskyV22Decoder(unet, scheduler, movq), inputDim: 24);
    }

    [Fact]
    public void PicturesOfOneImageDifferOnlyByTheEmbedding()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        using var decoder = GoldenDecoder();
        var renderer = new LensRenderer(decoder);
        // Every target of an image gets the image's (bit-identical) clean embedding: with one seed for every picture, all
        // its pictures must be bit-identical, wherever they fall in the render.
        var targets = LensTarget.AllHeads(vit.Architecture).Cast<LensTarget>().Take(6).ToArray();
        using var clean = vit.Forward(pixels);
        using var embeddings = clean.unsqueeze(1).expand(2, targets.Length, -1).contiguous();
        using var negative = vit.ZeroImageEmbedding();
        var pictures = renderer.RenderEmbeddings(embeddings, negative, targets, Fast).ToList();
        try
        {
            Assert.Equal(12, pictures.Count);
            Assert.Equal(12, decoder.Calls);
            foreach (var image in new[] { 0, 1 })
            {
                var mine = pictures.Where(p => p.ImageIndex == image).ToArray();
                Assert.Equal(targets.Length, mine.Length);
                foreach (var p in mine.Skip(1))
                    TensorAssert.Equal(mine[0].Picture, p.Picture, $"image {image} {p.Target.Label}");
            }
            Assert.True((pictures[0].Picture - pictures[^1].Picture).abs().max().item<float>() > 1e-3, "different embeddings differ");
        }
        finally
        {
            foreach (var p in pictures) p.Dispose();
        }
    }

    [Fact]
    public void PerImageSeedsGiveIdenticalNoiseForEqualSeeds()
    {
        using var source = new SeededNoiseSource(new long[] { 7, 7, 8 });
        using var latents = source.InitialLatents(0, new long[] { 3, 4, 2, 2 }, torch.ScalarType.Float32, torch.CPU);
        using var step = source.StepNoise(0, 0, new long[] { 3, 4, 2, 2 }, torch.ScalarType.Float32, torch.CPU);
        TensorAssert.Equal(latents[0], latents[1], "latents, equal seeds");
        TensorAssert.Equal(step[0], step[1], "step noise, equal seeds");
        Assert.True((latents[0] - latents[2]).abs().max().item<float>() > 0.1f);
        using var plain = new SeededNoiseSource(7);
        using var first = plain.InitialLatents(0, new long[] { 1, 4, 2, 2 }, torch.ScalarType.Float32, torch.CPU);
        TensorAssert.Equal(first[0], latents[0], "one seed for all pictures == explicit seed 7");
    }

    [Fact]
    public void SkippedPicturesAreNotDecodedAndTheRestMatchAFullRender()
    {
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        using var decoder = GoldenDecoder();
        var renderer = new LensRenderer(decoder);
        var lens = new DiffusionLens(vit);
        var targets = LensTarget.LayerSweep(vit.Architecture).Cast<LensTarget>().ToArray();
        var full = renderer.Render(lens, pixels, targets, Fast).ToList();
        var progress = new List<LensProgress>();
        var partial = renderer.Render(lens, pixels, targets, Fast, skip: (i, t) => i == 0, progress: new SyncProgress<LensProgress>(progress.Add)).ToList();
        try
        {
            Assert.Equal(targets.Length, partial.Count);
            Assert.All(partial, p => Assert.Equal(1, p.ImageIndex));
            foreach (var p in partial)
            {
                var same = full.Single(f => f.ImageIndex == p.ImageIndex && f.Target == p.Target);
                TensorAssert.Equal(same.Picture, p.Picture, $"resumed {p.Target}");
            }
            Assert.Equal(targets.Length, progress[^1].Completed);
        }
        finally
        {
            foreach (var p in full.Concat(partial)) p.Dispose();
        }
    }

    [Fact]
    public void EndToEndLayerSweepAndAllHeadsDslProducePicturesAndScores()
    {
        var sw = Stopwatch.StartNew();
        long rss0 = Environment.WorkingSet;
        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        using var decoder = GoldenDecoder();
        var renderer = new LensRenderer(decoder);
        var similarity = new EncoderImageSimilarity(vit);
        var sweep = LensTarget.LayerSweep(vit.Architecture).Cast<LensTarget>().ToArray();
        var heads = LensTarget.AllHeads(vit.Architecture).Cast<LensTarget>().ToArray();
        var options = Fast;
        int pictures = 0;
        long peak = rss0;
        foreach (var (lens, targets) in new (ILens, LensTarget[])[] { (new DiffusionLens(vit), sweep), (new SteeringLens(vit), heads) })
        {
            foreach (var p in renderer.Render(lens, pixels, targets, options))
            {
                using (p)
                {
                    Assert.Equal(new long[] { 3, 16, 16 }, p.Picture.shape);
                    Assert.InRange(p.Picture.min().item<float>(), 0f, 1f);
                    Assert.InRange(p.Picture.max().item<float>(), 0f, 1f);
                    using var reference = torch.rand(1, 3, 16, 16);
                    var s = similarity.Similarity(p.Picture.unsqueeze(0), reference);
                    Assert.True(double.IsFinite(s[0]));
                    pictures++;
                    peak = Math.Max(peak, Environment.WorkingSet);
                }
            }
        }
        Assert.Equal(2 * (sweep.Length + heads.Length), pictures);
        _out.WriteLine($"{pictures} pictures (3 steps, g 4, 16 px) in {sw.Elapsed.TotalSeconds:F2} s; working set {rss0 / 1e6:F0} → peak {peak / 1e6:F0} MB");
    }
}
