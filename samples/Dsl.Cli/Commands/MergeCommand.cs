using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>
/// <c>dsl merge</c>: combines the shards of one <c>validate --shard i/n</c> study into one results.json and report.html,
/// recomputing every statistic from the merged per-image measurements (<see cref="LensStudy.MergeValidation"/>). Shards that do not
/// fit (another model, settings or images, overlapping or missing shards) are refused with one line.
/// </summary>
internal static class MergeCommand
{
    public static Command Create(CliHost host)
    {
        var inputs = new Argument<string[]>("shards") { Description = "Output folders (or their results.json) of every shard of one 'validate --shard i/n' study.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "Output folder of the merged results.json, results.csv and report.html.", DefaultValueFactory = _ => "dsl-merged", HelpName = "DIR" };
        var command = new Command("merge", "Merge the shards of a 'validate --shard i/n' study: every statistic recomputed from the per-image data of all shards.") { inputs, output };
        command.SetAction((r, ct) => CommandRunner.Guard(host, false, () =>
        {
            var paths = r.GetValue(inputs)!.Select(ResultsFile).ToArray();
            var shards = paths.Select(Read).ToArray();
            foreach (var (s, path) in shards.Zip(paths).Skip(1))
                if (s.Steering != shards[0].Steering)
                    throw new CliUsageException($"{path} used steering '{s.Steering}', {paths[0]} '{shards[0].Steering}': shards of one study must use the same steering.");
            ValidationMeasurements merged;
            try { merged = LensStudy.MergeValidation(shards.Select(s => s.Measurements).ToArray()); }
            catch (ShardMismatchException e) { throw new CliUsageException(e.Message); }
            ct.ThrowIfCancellationRequested();
            var validation = LensStudy.ValidationStatistics(merged);
            var first = shards[0];
            var results = new StudyResults
            {
                Command = "validate", Encoder = first.Encoder, Steering = first.Steering, Architecture = first.Architecture,
                Images = merged.Images, Heads = validation.Heads, Validation = validation,
            };
            var display = new ProgressDisplay(host);
            display.Log($"merged {shards.Length} shards: {merged.PerImage.Count} evaluation images");
            ValidateCommand.Log(display, validation);
            var settings = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["shards"] = string.Join(" ", paths.Select(Path.GetFullPath)),
                ["out"] = Path.GetFullPath(r.GetValue(output)!),
            };
            new RunOutputs(r.GetValue(output)!, display).Results(results, 10, RunProvenance.Capture(host.Arguments, settings));
            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    private sealed record Shard(ValidationMeasurements Measurements, string? Steering, string? Encoder, VitArchitecture? Architecture);

    /// <summary>A shard's output folder or results file → the results file.</summary>
    private static string ResultsFile(string path) => Directory.Exists(path) ? Path.Combine(path, "results.json") : path;

    private static Shard Read(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"shard results not found: {full}");
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllBytes(full)); }
        catch (JsonException e) { throw new CliUsageException($"{full} is not valid JSON ({CommandRunner.OneLine(e.Message)})."); }
        if (root is not JsonObject doc || doc["command"]?.GetValueKind() != JsonValueKind.String || (string?)doc["command"] != "validate"
            || doc["validationShard"] is not JsonObject shard)
            throw new CliUsageException($"{full} is not the results of a 'dsl validate --shard i/n' run (no validationShard section).");
        try
        {
            var measurements = shard.Deserialize<ValidationMeasurements>(ResultsWriter.JsonOptions)
                ?? throw new CliUsageException($"{full}: empty validationShard section.");
            if (measurements.PerImage is null || measurements.Settings is null || measurements.Shard is null)
                throw new CliUsageException($"{full}: the validationShard section is incomplete.");
            var architecture = doc["architecture"]?.Deserialize<VitArchitecture>(ResultsWriter.JsonOptions);
            return new Shard(measurements, (string?)doc["steering"], (string?)doc["encoder"], architecture);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
        {
            throw new CliUsageException($"{full}: unreadable validationShard section ({CommandRunner.OneLine(e.Message)}).");
        }
    }
}
