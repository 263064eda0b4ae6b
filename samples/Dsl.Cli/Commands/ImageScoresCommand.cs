using System.CommandLine;
using System.Globalization;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>
/// <c>dsl image-scores</c>: the validation protocol in picture space — every head's DSL and DL-on-heads read-out decoded
/// with several decoder seeds on the first evaluation images, scored against the input picture and correlated with
/// ablation importance.
/// </summary>
internal static class ImageScoresCommand
{
    public static Command Create(CliHost host)
    {
        var v = new ValidationOptions();
        var imageCount = new Option<int>("--image-count") { Description = "Evaluation images decoded (each costs 2 × heads × seeds pictures).", DefaultValueFactory = _ => 4, HelpName = "N" };
        var decoderSeeds = new Option<string>("--decoder-seeds") { Description = "Comma-separated decoder seeds (at least two); scores are averaged over them.", DefaultValueFactory = _ => "0,1,2", HelpName = "S,S,..." };
        return ExperimentCommand.Create(host, "image-scores",
            "Picture-space validation: decode every head's DSL and DL-on-heads read-out with several decoder seeds on the first evaluation images; head-level ρ of the seed-averaged picture similarity with ablation importance (permutation p, bootstrap CI), DSL − DL Δρ, seed agreement.",
            steering: true, c => { v.AddTo(c); c.Add(imageCount); c.Add(decoderSeeds); c.Add(v.Shard); },
            r =>
            {
                var settings = v.Bind(r);
                var loadImages = v.BindImages(r);
                int count = r.GetValue(imageCount);
                if (count < 1) throw new CliUsageException($"--image-count must be at least 1 (got {count}).");
                var seeds = ParseSeeds(r.GetValue(decoderSeeds)!);
                var shard = v.BindShard(r);
                return async (session, display, outputs, ct) =>
                {
                    var sweeps = new Dictionary<long, PictureSweep>();
                    foreach (var seed in seeds)
                        sweeps[seed] = session.PicturesForSeed(seed)
                            ?? throw new CliUsageException("image-scores decodes pictures: give a decoder (--decoder DIR) and leave out --no-decode.");
                    using var images = loadImages(session.Processor);
                    var steering = new SteeringOptions { Steering = session.Settings.Steering };
                    if (shard is not null) return await MeasureShard(session, display, images, steering, sweeps, count, settings, shard, ct).ConfigureAwait(false);
                    var result = await display.RunAsync(p => LensStudy.ValidateImageSpace(session.Encoder, images, steering, sweeps, count, settings, p, ct), ct)
                        .ConfigureAwait(false);
                    Log(display, result);
                    return StudyResultsFactory.Base(session, "image-scores") with { ImageSpace = result, Images = images.Description };
                };
            });
    }

    /// <summary>
    /// <c>--shard i/n</c>: only the per-image measurements (every seed's picture scores, importance, norms, embedding
    /// scores) of this shard's images; no statistics — they need every image, and <c>dsl merge</c> computes them.
    /// </summary>
    private static async Task<StudyResults> MeasureShard(Session session, ProgressDisplay display, StudyImages images, SteeringOptions steering,
        IReadOnlyDictionary<long, PictureSweep> sweeps, int count, ValidationSettings settings, ValidationShard shard, CancellationToken ct)
    {
        var measurements = await display.RunAsync(p => ValidationOptions.Measuring(
            () => LensStudy.MeasureImageSpace(session.Encoder, images, steering, sweeps, count, settings, shard, p, ct)), ct).ConfigureAwait(false);
        var measured = measurements.PerImage;
        display.Log($"shard {shard}: measured images {measured[0].Image}…{measured[^1].Image} of {measurements.Images} × {measurements.DecoderSeeds.Count} decoder seeds ({string.Join(", ", measurements.DecoderSeeds)}); combine every shard with 'dsl merge'");
        return StudyResultsFactory.Base(session, "image-scores") with { ImageSpaceShard = measurements, Images = images.Description };
    }

    /// <summary>Prints the picture-space verdicts, the seeds' agreement and the warnings (an unsharded run and <c>dsl merge</c>).</summary>
    public static void Log(ProgressDisplay display, ImageSpaceValidationResult result)
    {
        display.Log($"picture space: {result.Images} images × {result.DecoderSeeds.Count} decoder seeds ({string.Join(", ", result.DecoderSeeds)}), {result.Ablation.ToString().ToLowerInvariant()} ablation");
        foreach (var l in result.Lenses) display.Log("  " + l.Verdict);
        display.Log("  " + result.DslVsDlVerdict);
        display.Log($"  seed agreement (mean Spearman ρ between two seeds' scores of one image): DSL {F(result.DslSeedAgreement)}, DL-on-heads {F(result.DlSeedAgreement)}");
        foreach (var w in result.Warnings) display.Log("  warning: " + w);
    }

    internal static IReadOnlyList<long> ParseSeeds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var seeds = new List<long>();
        foreach (var p in parts)
        {
            if (!long.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s))
                throw new CliUsageException($"--decoder-seeds: '{p}' is not an integer seed.");
            if (!seeds.Contains(s)) seeds.Add(s);
        }
        if (seeds.Count < 2) throw new CliUsageException($"--decoder-seeds needs at least two different seeds (got '{text}').");
        return seeds;
    }

    private static string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
}
