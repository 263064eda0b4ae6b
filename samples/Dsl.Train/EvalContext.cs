using DiffusionSteeringLens.Decoding;
using System.Diagnostics;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Kandinsky;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Synthetic;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>The shipped models loaded back from disk (strictly), the judge, and decode/judge helpers shared by the measurements.</summary>
internal sealed class EvalContext : IDisposable
{
    public EvalContext(TrainOptions o)
    {
        Options = o;
        Encoder = ClipVisionModelWithProjection.FromPretrained(ToyModel.EncoderDir(o.Output));
        Decoder = KandinskyV22Decoder.FromPretrained(o.DecoderFolder ?? Path.Combine(o.Output, "decoder"));
        Renderer = new LensRenderer(Decoder);
        ZeroEmbedding = Encoder.ZeroImageEmbedding();
        Judge = new ShapeJudge();
        Similarity = new EncoderImageSimilarity(Encoder, ToyModel.ClipMean, ToyModel.ClipStd);
        DecodeOptions = new KandinskyDecodeOptions
        {
            NumInferenceSteps = o.SamplingSteps, GuidanceScale = o.Guidance, Height = 32, Width = 32, Seed = 7,
        };
        FiguresDir = Path.Combine(o.Output, "evaluation");
        Directory.CreateDirectory(FiguresDir);
    }

    public TrainOptions Options { get; }
    public ClipVisionModelWithProjection Encoder { get; }
    public KandinskyV22Decoder Decoder { get; }
    /// <summary>The library's one renderer over <see cref="Decoder"/> (no cast or resize: the toy decoder already works at 32 px in float32).</summary>
    public LensRenderer Renderer { get; }
    public Tensor ZeroEmbedding { get; }
    public ShapeJudge Judge { get; }
    public EncoderImageSimilarity Similarity { get; }
    public DecodeOptions DecodeOptions { get; }
    public string FiguresDir { get; }
    public int DecodedPictures { get; private set; }
    public double DecodeSeconds { get; private set; }

    /// <summary>Pictures [N, 3, 32, 32] in [0, 1] for embeddings [N, P] (DDPM, CFG against the zero-image embedding).</summary>
    public Tensor Decode(Tensor embeds)
    {
        var clock = Stopwatch.StartNew();
        // Evaluation pictures get distinct noise (the renderer's explicit per-picture seed policy): picture i of a call uses seed 7 + i.
        var seeds = Enumerable.Range(0, (int)embeds.shape[0]).Select(i => DecodeOptions.Seed + i).ToArray();
        var pictures = Renderer.DecodeWithSeeds(embeds, ZeroEmbedding, seeds, DecodeOptions);
        DecodeSeconds += clock.Elapsed.TotalSeconds;
        DecodedPictures += (int)embeds.shape[0];
        return pictures;
    }

    public Tensor Embed(Tensor images) => Encoder.Forward(ToyModel.Normalize(images));

    /// <summary>Fractions of pictures whose judged shape / colour / both / size / overlay equal the truth.</summary>
    public Agreement Agree(IReadOnlyList<ShapeAttributes> truth, Tensor pictures)
    {
        var v = Judge.Judge(pictures);
        double n = truth.Count;
        return new Agreement(
            truth.Zip(v).Count(p => p.First.Shape == p.Second.Shape) / n,
            truth.Zip(v).Count(p => p.First.Color == p.Second.Color) / n,
            truth.Zip(v).Count(p => p.Second.Matches(p.First)) / n,
            truth.Zip(v).Count(p => p.First.Size == p.Second.Size) / n,
            truth.Zip(v).Count(p => p.First.Overlay == p.Second.Overlay) / n,
            v.Average(j => j.OverlayScore));
    }

    /// <summary>Saves rows of pictures (each [N, 3, 32, 32]) side by side as a PNG grid, one column per picture set.</summary>
    public void SaveGrid(string name, IReadOnlyList<(string Label, Tensor Pictures)> columns, int rows)
    {
        var grid = new ImageGrid(rows, columns.Count, new ImageGridOptions { Upscale = 3, Padding = 2, FontSize = 11 });
        for (int c = 0; c < columns.Count; c++)
        {
            grid.ColumnLabels[c] = columns[c].Label;
            for (int r = 0; r < rows && r < columns[c].Pictures.shape[0]; r++)
            {
                using var img = columns[c].Pictures[r];
                grid.SetImage(r, c, img);
            }
        }
        grid.Save(Path.Combine(FiguresDir, name));
    }

    public void Dispose()
    {
        ZeroEmbedding.Dispose();
        Judge.Dispose();
        Decoder.Dispose();
        Encoder.Dispose();
    }
}

/// <summary>Judge agreement with the ground truth.</summary>
internal sealed record Agreement(double Shape, double Color, double Both, double Size, double Overlay, double MeanOverlayScore)
{
    public override string ToString() =>
        $"shape {Shape:P1}, colour {Color:P1}, both {Both:P1}, size {Size:P1}, overlay {Overlay:P1} (mean stripe contrast {MeanOverlayScore:F3})";
}
