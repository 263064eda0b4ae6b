using System.CommandLine;
using System.Globalization;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.Lenses;
using TorchSharp;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary><c>dsl overlay</c>: the overlay-removal study.</summary>
internal static class OverlayCommand
{
    public static Command Create(CliHost host)
    {
        var overlay = new Option<string?>("--overlay") { Description = "Overlay pattern image (resized to the input). Default: black/white stripes.", HelpName = "FILE" };
        var region = new Option<string>("--overlay-region") { Description = "Overlay rectangle as fractions of the side: left,top,width,height.", DefaultValueFactory = _ => "0.5,0.5,0.5,0.5", HelpName = "L,T,W,H" };
        var seeds = new Option<string>("--random-seeds") { Description = "Seeds of the random-k ablation baselines.", DefaultValueFactory = _ => "1,2,3", HelpName = "LIST" };
        return ExperimentCommand.Create(host, "overlay",
            "Overlay removal: rank heads by DSL similarity to an overlay, ablate the top-k, and check the output loses the overlay but keeps the base.",
            steering: true, c => { c.Add(overlay); c.Add(region); c.Add(seeds); },
            r =>
            {
                var file = r.GetValue(overlay);
                CommonOptions.RequireFile("--overlay", "an overlay", file);
                var box = ParseRegion(r.GetValue(region) ?? "");
                bool regionGiven = r.GetResult(region) is { Implicit: false };
                var seedList = ParseSeeds(r.GetValue(seeds) ?? "");
                return async (session, display, outputs, ct) =>
                {
                    using var overlayRgb = file is null ? null : ImageIO.LoadRgb(file);
                    // The built-in input uses its domain's own overlay unless a pattern or region is asked for.
                    using var inputs = (file is null && !regionGiven ? BuiltInImages.Overlay(session.Processor, session.BaseRgb, session.BuiltInInput) : null)
                        ?? OverlayInputs.Create(session.Processor, session.BaseRgb, overlayRgb, box[0], box[1], box[2], box[3]);
                    var steering = new SteeringOptions { Steering = session.Settings.Steering };
                    using var outcome = await display.RunAsync(p => LensStudy.Overlay(session.Context(p), inputs.Base, inputs.Overlaid, inputs.Overlay,
                        steering, session.Settings.TopK, seedList, ct), ct).ConfigureAwait(false);
                    Figures.Overlay(outputs, inputs, outcome);
                    var o = outcome.Result;
                    display.Log($"overlay heads: {string.Join(", ", o.TopHeads.Select(h => h.Label))}");
                    display.Log($"similarity to overlay {RunOutputs.Score(o.OverlaySimilarityBefore)} → {RunOutputs.Score(o.OverlaySimilarityAfter)} (random-k {RunOutputs.Score(o.RandomOverlaySimilarityAfter)}); to base {RunOutputs.Score(o.BaseSimilarityBefore)} → {RunOutputs.Score(o.BaseSimilarityAfter)}");
                    return StudyResultsFactory.Base(session, "overlay") with { Overlay = o };
                };
            });
    }

    public static double[] ParseRegion(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new double[4];
        if (parts.Length != 4 || parts.Select((p, i) => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out values[i])).Any(ok => !ok)
            || values.Any(v => v < 0 || v > 1) || values[2] <= 0 || values[3] <= 0)
            throw new CliUsageException($"--overlay-region must be four fractions left,top,width,height in [0, 1] (got '{text}').");
        return values;
    }

    public static int[] ParseSeeds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var seeds = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out seeds[i]))
                throw new CliUsageException($"--random-seeds must be comma-separated integers (got '{text}').");
        if (seeds.Length == 0) throw new CliUsageException("--random-seeds must list at least one seed.");
        return seeds;
    }
}
