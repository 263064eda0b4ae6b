using System.CommandLine;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary><c>dsl overlay</c>: the overlay-removal study on calibration/evaluation image sets.</summary>
internal static class OverlayCommand
{
    public static Command Create(CliHost host)
    {
        var v = new ValidationOptions();
        var overlayImages = new Option<int>("--overlay-images") { Description = "Evaluation images the presence is measured on (each subset costs two forwards per image).", DefaultValueFactory = _ => 16, HelpName = "N" };
        var planted = new Option<string?>("--planted-heads") { Description = "Heads known by construction to carry the overlay (a planted testbed, e.g. L3H1,L6H10): measured as ground-truth rows and located in every selector's ranking.", HelpName = "HEADS" };
        var subsets = new Option<int>("--subsets") { Description = "Head subsets compared: all of them when there are no more than N, else N random ones.", DefaultValueFactory = _ => 2000, HelpName = "N" };
        return ExperimentCommand.Create(host, "overlay",
            "Overlay removal: DSL picks the top-k overlay heads on calibration images; ablating them on evaluation images is measured along the overlay direction and compared with every (or 2,000 random) k-head subsets.",
            steering: true, c => { v.AddImagesTo(c); c.Add(overlayImages); c.Add(subsets); c.Add(planted); c.Add(v.Shard); },
            r =>
            {
                var loadImages = v.BindImages(r);
                int seed = r.GetValue(v.ImageSeed);
                int maxImages = r.GetValue(overlayImages), maxSubsets = r.GetValue(subsets);
                if (maxImages < 1) throw new CliUsageException($"--overlay-images must be at least 1 (got {maxImages}).");
                if (maxSubsets < 1) throw new CliUsageException($"--subsets must be at least 1 (got {maxSubsets}).");
                string? plantedText = r.GetValue(planted);
                var shard = v.BindShard(r);
                return async (session, display, outputs, ct) =>
                {
                    using var images = loadImages(session.Processor);
                    var steering = new SteeringOptions { Steering = session.Settings.Steering };
                    var plantedHeads = PlantedHeads(plantedText, session);
                    if (shard is not null)
                    {
                        // Only the per-image values of this shard's evaluation images: the statistics compare means over
                        // every image, and 'dsl merge' computes them. No before/after pictures (an unsharded run draws them).
                        var measurements = await display.RunAsync(p => ValidationOptions.Measuring(() => LensStudy.MeasureOverlay(session.Encoder, images, steering,
                            session.Settings.TopK, shard, seed, maxImages, maxSubsets, plantedHeads, p, ct)), ct).ConfigureAwait(false);
                        var measured = measurements.PerImage;
                        display.Log($"shard {shard}: measured evaluation images {measured[0].Image}…{measured[^1].Image} of {measurements.EvaluationImages} × {measured[0].Presence.Count} head sets; combine every shard with 'dsl merge'");
                        return StudyResultsFactory.Base(session, "overlay") with { OverlayShard = measurements, Images = images.Description };
                    }
                    using var outcome = await display.RunAsync(p => LensStudy.Overlay(session.Context(p), images, steering, session.Settings.TopK, seed, maxImages, maxSubsets, ct, plantedHeads), ct)
                        .ConfigureAwait(false);
                    Figures.Overlay(outputs, images, outcome);
                    display.Log(outcome.Verdict);
                    return StudyResultsFactory.Base(session, "overlay") with { Overlay = outcome.Result, OverlayVerdict = outcome.Verdict, Images = images.Description };
                };
            });
    }

    private static IReadOnlyList<HeadTarget>? PlantedHeads(string? text, Session session)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        IReadOnlyList<LensTarget> targets;
        try { targets = LensTarget.ParseList(text, session.Encoder.Architecture); }
        catch (ArgumentException e) { throw new CliUsageException($"--planted-heads: {e.Message}"); }
        if (targets.Any(t => t is not HeadTarget))
            throw new CliUsageException($"--planted-heads takes attention heads only (e.g. L3H1,L6H10), got '{text}'.");
        return targets.OfType<HeadTarget>().ToArray();
    }
}
