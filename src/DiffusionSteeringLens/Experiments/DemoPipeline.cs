using System.Diagnostics;
using DiffusionSteeringLens.Analysis;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// The end-to-end demo: DL layer sweep, all-heads DSL (and DL-on-heads) ranking, importance correlation with ablation
/// trajectories, and the overlay-removal study on an overlaid copy of the input.
/// </summary>
public static class DemoPipeline
{
    /// <summary>Runs every stage and returns the records and pictures.</summary>
    /// <param name="context">Encoder, the input whose read-outs are shown, decoding, progress.</param>
    /// <param name="images">Calibration / evaluation / reference sets of the validation and overlay studies.</param>
    /// <param name="options">Settings.</param>
    /// <param name="cancellationToken">Cancels between stages and decode batches.</param>
    public static DemoOutcome Run(StudyContext context, StudyImages images, DemoOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(images);
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
            var validation = LensStudy.Validate(context.Encoder, images, options.Steering, options.Validation, context.Progress, cancellationToken);
            Lap("validation");
            if (options.RunOverlay)
            {
                overlay = LensStudy.Overlay(context, images, options.Steering, options.OverlayTopK ?? Math.Max(1, n / 4), options.Validation.Seed,
                    options.OverlayImages, options.OverlaySubsets, cancellationToken);
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
                OverlayVerdict = overlay?.Verdict,
                Images = images.Description,
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
}
