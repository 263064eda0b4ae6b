using System.Diagnostics;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Analysis;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// The end-to-end demo: DL layer sweep, all-heads DSL (and DL-on-heads) ranking, importance correlation with ablation
/// trajectories, and the overlay-removal study on an overlaid copy of the input.
/// </summary>
public static class DemoPipeline
{
    /// <summary>Runs every stage on <paramref name="context"/>'s input and returns the records and pictures.</summary>
    /// <param name="context">Encoder, input, decoding, progress.</param>
    /// <param name="processor">Preprocesses the overlay study's inputs.</param>
    /// <param name="overlayInputs">
    /// The overlay study's inputs; null composes <see cref="DemoImages.Stripes"/> into the bottom-right quadrant of the
    /// context's first input picture.
    /// </param>
    /// <param name="options">Settings.</param>
    /// <param name="cancellationToken">Cancels between stages and decode batches.</param>
    public static DemoOutcome Run(StudyContext context, ClipImageProcessor processor, OverlayInputs? overlayInputs = null, DemoOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(processor);
        options ??= new DemoOptions();
        var arch = context.Encoder.Architecture;
        int n = arch.NumLayers * arch.NumHeads;
        var timings = new Dictionary<string, double>();
        var watch = Stopwatch.StartNew();
        void Lap(string stage) { timings[stage] = watch.Elapsed.TotalSeconds; watch.Restart(); }

        ReadoutSweep? layers = null;
        HeadRanking? ranking = null;
        OverlayOutcome? overlay = null;
        try
        {
            layers = LensStudy.LayerSweep(context, cancellationToken);
            Lap("layer sweep");
            ranking = LensStudy.RankHeads(context, options.Steering, cancellationToken);
            Lap("head ranking");
            var (validation, rows) = LensStudy.Validate(context, ranking.Rows, options.TrajectorySteps ?? Math.Min(32, n), options.RandomSeeds,
                options.Permutations, AblationKind.Zero, cancellationToken);
            ranking = ranking with { Rows = rows };
            Lap("validation");
            if (options.RunOverlay)
            {
                overlay = RunOverlay(context, processor, overlayInputs, options, n, cancellationToken);
                Lap("overlay study");
            }
            var results = new StudyResults
            {
                Command = "demo",
                Steering = options.Steering.Steering.ToString(),
                Architecture = arch,
                LayerSweep = layers.Readouts,
                Heads = ranking.Rows,
                Validation = validation,
                Overlay = overlay?.Result,
                TimingsSeconds = timings,
            };
            return new DemoOutcome(results, layers, ranking, overlay);
        }
        catch
        {
            layers?.Dispose();
            ranking?.Dispose();
            overlay?.Dispose();
            throw;
        }
    }

    private static OverlayOutcome RunOverlay(StudyContext context, ClipImageProcessor processor, OverlayInputs? given, DemoOptions options,
        int heads, CancellationToken ct)
    {
        using var first = context.Input.Pictures.select(0, 0);
        using var baseRgb = Imaging.ImageIO.ToUint8Hwc(first);
        using var made = given is null ? OverlayInputs.Create(processor, baseRgb) : null;
        var inputs = given ?? made!;
        int topK = options.OverlayTopK ?? Math.Max(1, heads / 4);
        return LensStudy.Overlay(context, inputs.Base, inputs.Overlaid, inputs.Overlay, options.Steering, topK, options.RandomSeeds, ct);
    }
}
