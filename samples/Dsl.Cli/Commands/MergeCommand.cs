using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>
/// <c>dsl merge</c>: combines the shards of one <c>validate</c>, <c>image-scores</c>, <c>rank</c> or <c>overlay</c> study run
/// with <c>--shard i/n</c> (told apart by their results section) into one results.json and report.html, recomputing every
/// statistic from the merged per-image measurements (<see cref="LensStudy.MergeValidation"/>, <see cref="LensStudy.MergeImageSpace"/>,
/// <see cref="LensStudy.MergeRankOnImages"/>, <see cref="LensStudy.MergeOverlay"/>). Shards that
/// do not fit (another model, settings, images or decoder, overlapping or missing shards, shards of both studies) are
/// refused with one line.
/// </summary>
internal static class MergeCommand
{
    public static Command Create(CliHost host)
    {
        var inputs = new Argument<string[]>("shards") { Description = "Output folders (or their results.json) of every shard of one 'validate', 'image-scores', 'rank' or 'overlay' study run with --shard i/n.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "Output folder of the merged results.json, results.csv and report.html.", DefaultValueFactory = _ => "dsl-merged", HelpName = "DIR" };
        var command = new Command("merge", "Merge the shards of a 'validate', 'image-scores', 'rank' or 'overlay' study run with --shard i/n: every statistic recomputed from the per-image data of all shards.") { inputs, output };
        command.SetAction((r, ct) => CommandRunner.Guard(host, false, () =>
        {
            var paths = r.GetValue(inputs)!.Select(ResultsFile).ToArray();
            var shards = paths.Select(Read).ToArray();
            foreach (var s in shards.Skip(1))
            {
                if (s.Study != shards[0].Study)
                    throw new CliUsageException($"{s.Path} is a shard of 'dsl {s.Study.Command}', {shards[0].Path} of 'dsl {shards[0].Study.Command}': merge the shards of one study at a time.");
                if (s.Steering != shards[0].Steering)
                    throw new CliUsageException($"{s.Path} used steering '{s.Steering}', {shards[0].Path} '{shards[0].Steering}': shards of one study must use the same steering.");
            }
            var display = new ProgressDisplay(host);
            var first = shards[0];
            var merged = new StudyResults { Command = first.Study.Command, Encoder = first.Encoder, Steering = first.Steering, Architecture = first.Architecture };
            merged = first.Study.Command switch
            {
                "validate" => MergeValidation(shards, merged, display, ct),
                "image-scores" => MergeImageSpace(shards, merged, display, ct),
                "rank" => MergeRank(shards, merged, display, ct),
                _ => MergeOverlay(shards, merged, display, ct),
            };
            var settings = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["shards"] = string.Join(" ", paths.Select(Path.GetFullPath)),
                ["out"] = Path.GetFullPath(r.GetValue(output)!),
            };
            new RunOutputs(r.GetValue(output)!, display).Results(merged, 10, RunProvenance.Capture(host.Arguments, settings));
            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    private static StudyResults MergeValidation(Shard[] shards, StudyResults results, ProgressDisplay display, CancellationToken ct)
    {
        var measurements = shards.Select(s => s.Measurements<ValidationMeasurements>(m => m.PerImage is not null && m.Settings is not null && m.Shard is not null)).ToArray();
        var merged = Checked(() => LensStudy.MergeValidation(measurements));
        ct.ThrowIfCancellationRequested();
        var validation = LensStudy.ValidationStatistics(merged);
        display.Log($"merged {shards.Length} shards: {merged.PerImage.Count} evaluation images");
        ValidateCommand.Log(display, validation);
        return results with { Images = merged.Images, Heads = validation.Heads, Validation = validation };
    }

    private static StudyResults MergeImageSpace(Shard[] shards, StudyResults results, ProgressDisplay display, CancellationToken ct)
    {
        var measurements = shards.Select(s => s.Measurements<ImageSpaceMeasurements>(m => m.PerImage is not null && m.Settings is not null && m.Shard is not null
            && m.DecoderSeeds is not null && m.DecodeSettings is not null)).ToArray();
        var merged = Checked(() => LensStudy.MergeImageSpace(measurements));
        ct.ThrowIfCancellationRequested();
        var imageSpace = LensStudy.ImageSpaceStatistics(merged);
        display.Log($"merged {shards.Length} shards: {merged.PerImage.Count} images");
        ImageScoresCommand.Log(display, imageSpace);
        return results with { Images = merged.ImageSets, Decoder = shards[0].Decoder, DecodeSettings = shards[0].DecodeSettings, ImageSpace = imageSpace };
    }

    private static StudyResults MergeRank(Shard[] shards, StudyResults results, ProgressDisplay display, CancellationToken ct)
    {
        var measurements = shards.Select(s => s.Measurements<RankMeasurements>(m => m.PerImage is not null && m.Shard is not null)).ToArray();
        var merged = Checked(() => LensStudy.MergeRankOnImages(measurements));
        ct.ThrowIfCancellationRequested();
        var ranking = Checked(() => LensStudy.RankOnImagesStatistics(merged));
        display.Log($"merged {shards.Length} shards: ranking over {ranking.Images} ({merged.PerImage.Count} evaluation images):");
        RankCommand.LogTop(display, ranking.Heads, 10);
        return results with { Images = merged.Images, ImageRanking = ranking };
    }

    private static StudyResults MergeOverlay(Shard[] shards, StudyResults results, ProgressDisplay display, CancellationToken ct)
    {
        var measurements = shards.Select(s => s.Measurements<OverlayMeasurements>(m => m.PerImage is not null && m.Shard is not null && m.PlantedHeads is not null
            && m.LensScores is not null && m.DlScores is not null && m.ChangeNorms is not null && m.SilentHeads is not null
            && m.PerImage.All(p => p.Presence is not null && p.CleanSimilarity is not null && p.CleanShift is not null))).ToArray();
        var merged = Checked(() => LensStudy.MergeOverlay(measurements));
        ct.ThrowIfCancellationRequested();
        using var outcome = Checked(() => LensStudy.OverlayStatistics(merged));
        display.Log($"merged {shards.Length} shards: {merged.PerImage.Count} evaluation images");
        display.Log(outcome.Verdict);
        return results with { Images = merged.Images, Overlay = outcome.Result, OverlayVerdict = outcome.Verdict };
    }

    /// <summary>A merge whose shards do not fit is a one-line usage error.</summary>
    private static T Checked<T>(Func<T> merge)
    {
        try { return merge(); }
        catch (ShardMismatchException e) { throw new CliUsageException(e.Message); }
        catch (ArgumentException e) { throw new CliUsageException("malformed shard measurements: " + e.Message); }
    }

    /// <summary>A sharded study: the command that wrote the shard and the results section holding its measurements.</summary>
    private sealed record Study(string Command, string Section)
    {
        public static readonly Study[] All =
        {
            new("validate", "validationShard"), new("image-scores", "imageSpaceShard"), new("rank", "imageRankingShard"), new("overlay", "overlayShard"),
        };
    }

    private sealed record Shard(string Path, Study Study, JsonObject Section, string? Steering, string? Encoder, VitArchitecture? Architecture,
        string? Decoder, string? DecodeSettings)
    {
        /// <summary>The shard's measurements, refused with one line when the section is unreadable or incomplete.</summary>
        public T Measurements<T>(Func<T, bool> complete) where T : class
        {
            try
            {
                var measurements = Section.Deserialize<T>(ResultsWriter.JsonOptions) ?? throw new CliUsageException($"{Path}: empty {Study.Section} section.");
                return complete(measurements) ? measurements : throw new CliUsageException($"{Path}: the {Study.Section} section is incomplete.");
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
            {
                throw new CliUsageException($"{Path}: unreadable {Study.Section} section ({CommandRunner.OneLine(e.Message)}).");
            }
        }
    }

    /// <summary>A shard's output folder or results file → the results file.</summary>
    private static string ResultsFile(string path) => Directory.Exists(path) ? Path.Combine(path, "results.json") : path;

    private static Shard Read(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"shard results not found: {full}");
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllBytes(full)); }
        catch (JsonException e) { throw new CliUsageException($"{full} is not valid JSON ({CommandRunner.OneLine(e.Message)})."); }
        var doc = root as JsonObject;
        var command = doc?["command"]?.GetValueKind() == JsonValueKind.String ? (string?)doc["command"] : null;
        var study = Study.All.FirstOrDefault(s => s.Command == command && doc![s.Section] is JsonObject)
            ?? throw new CliUsageException($"{full} is not the results of a 'dsl validate', 'image-scores', 'rank' or 'overlay' run with --shard i/n (no validationShard, imageSpaceShard, imageRankingShard or overlayShard section).");
        try
        {
            var architecture = doc!["architecture"]?.Deserialize<VitArchitecture>(ResultsWriter.JsonOptions);
            return new Shard(full, study, (JsonObject)doc[study.Section]!, Str("steering"), Str("encoder"), architecture, Str("decoder"), Str("decodeSettings"));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
        {
            throw new CliUsageException($"{full}: unreadable results ({CommandRunner.OneLine(e.Message)}).");
        }

        string? Str(string key) => doc![key]?.GetValueKind() == JsonValueKind.String ? (string?)doc[key] : null;
    }
}
