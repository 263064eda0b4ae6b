using DiffusionSteeringLens.Experiments;
using System.Diagnostics;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Synthetic;

/// <summary>
/// The end-to-end demo: DL layer sweep, all-heads DSL (and DL-on-heads) ranking, importance correlation with ablation
/// trajectories, and the overlay-removal study. Every head is scored in embedding space (cheap); only what the grids show
/// is decoded: the layer sweep and the DSL/DL pictures of DSL's top and bottom heads.
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
        ReadoutSweep? shownDsl = null, shownDl = null;
        OverlayOutcome? overlay = null;
        try
        {
            layers = LensStudy.LayerSweep(context, cancellationToken);
            Lap("layer sweep");
            // Every head in embedding space: no decoder, so nothing is drawn for heads no grid shows.
            var scoring = new StudyContext(context.Encoder, context.Input, null, null, context.Progress);
            ranking = LensStudy.RankHeads(scoring, options.Steering, cancellationToken);
            Lap("head ranking");
            var shown = ShownHeads(ranking.Rows, options.ShownTopHeads, options.ShownBottomHeads);
            var shownTargets = shown.Select(r => (LensTarget)r.Head).ToArray();
            if (context.Decodes)
            {
                (shownDsl, shownDl) = LensStudy.SteeringAndDirectReadouts(context, options.Steering, shownTargets, "dsl-shown-heads", "dl-shown-heads", cancellationToken);
                Lap("shown heads decoded");
            }
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
                Targets = shownDsl is null || shownDl is null ? null : shownDsl.Readouts.Concat(shownDl.Readouts).ToArray(),
                Heads = ranking.Rows,
                Validation = validation,
                Overlay = overlay?.Result,
                OverlayVerdict = overlay?.Verdict,
                Images = images.Description,
                TimingsSeconds = timings,
            };
            return new DemoOutcome(results, layers, ranking, shown, shownDsl, shownDl, overlay);
        }
        catch
        {
            layers?.Dispose();
            ranking?.Dispose();
            shownDsl?.Dispose();
            shownDl?.Dispose();
            overlay?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The heads the demo's grid shows, in DSL rank order: the <paramref name="top"/> best and the <paramref name="bottom"/>
    /// worst by DSL score (fewer when the model has fewer heads; a head is never listed twice).
    /// </summary>
    internal static IReadOnlyList<HeadScoreRow> ShownHeads(IReadOnlyList<HeadScoreRow> rows, int top, int bottom)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(top);
        ArgumentOutOfRangeException.ThrowIfNegative(bottom);
        var ordered = rows.OrderBy(r => r.DslRank).ToArray();
        var first = ordered.Take(top).ToArray();
        var last = ordered.Skip(Math.Max(first.Length, ordered.Length - bottom)).ToArray();
        return first.Concat(last).ToArray();
    }
}
