using System.CommandLine;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary><c>dsl rank</c>: score and rank every head with DSL and with DL-on-heads.</summary>
internal static class RankCommand
{
    public static Command Create(CliHost host)
    {
        var v = new ValidationOptions();
        return ExperimentCommand.Create(host, "rank",
            "Score and rank every head (DSL and DL-on-heads; embedding-space, plus image-space when decoding). With --images or --synthetic, also rank by scores averaged over the evaluation images.",
            steering: true, c => { v.AddImagesTo(c); c.Add(v.Shard); },
            r =>
            {
                // The image-set ranking runs only when asked for, so plain `rank` stays a one-image command.
                bool overImages = r.GetResult(v.Images) is { Implicit: false } || r.GetResult(v.Synthetic) is { Implicit: false };
                var loadImages = v.BindImages(r);
                var shard = v.BindShard(r);
                return async (session, display, outputs, ct) =>
                {
                    var steering = new SteeringOptions { Steering = session.Settings.Steering };
                    if (shard is not null) return await MeasureShard(session, display, loadImages, steering, shard, ct).ConfigureAwait(false);
                    using var ranking = await display.RunAsync(p => LensStudy.RankHeads(session.Context(p), steering, ct), ct).ConfigureAwait(false);
                    Figures.TopHeads(outputs, ranking, session.Settings.TopK);
                    LogTop(display, ranking.Rows, session.Settings.TopK);
                    var results = StudyResultsFactory.Base(session, "rank") with { Heads = ranking.Rows };
                    if (!overImages) return results;
                    using var images = loadImages(session.Processor);
                    var onImages = LensStudy.RankOnImages(session.Encoder, images, steering, ct);
                    display.Log($"ranking over {images.Description}:");
                    LogTop(display, onImages.Heads, session.Settings.TopK);
                    return results with { ImageRanking = onImages, Images = images.Description };
                };
            });
    }

    /// <summary>
    /// <c>--shard i/n</c>: only the per-image scores of this shard's evaluation images (no ranking of the input, no
    /// image-set ranking — it averages over every image, and <c>dsl merge</c> computes it).
    /// </summary>
    private static async Task<StudyResults> MeasureShard(Session session, ProgressDisplay display, Func<Models.Vit.ClipVision.ClipImageProcessor, StudyImages> loadImages,
        SteeringOptions steering, ValidationShard shard, CancellationToken ct)
    {
        using var images = loadImages(session.Processor);
        var measurements = await display.RunAsync(p => ValidationOptions.Measuring(
            () => LensStudy.MeasureRankOnImages(session.Encoder, images, steering, shard, p, ct)), ct).ConfigureAwait(false);
        var measured = measurements.PerImage;
        display.Log($"shard {shard}: scored evaluation images {measured[0].Image}…{measured[^1].Image} of {measurements.EvaluationImages}; combine every shard with 'dsl merge'");
        return StudyResultsFactory.Base(session, "rank") with { ImageRankingShard = measurements, Images = images.Description };
    }

    public static void LogTop(ProgressDisplay display, IReadOnlyList<HeadScoreRow> rows, int topK)
    {
        foreach (var h in rows.OrderBy(h => h.DslRank).Take(topK))
            display.Log($"#{h.DslRank,-3} {h.Head,-8} DSL {RunOutputs.Score(h.DslPrimary)}  DL {RunOutputs.Score(h.DlPrimary)} (DL rank {h.DlRank})"
                + (h.Importance is { } i ? $"  importance {RunOutputs.Score(i)}" : ""));
    }
}
