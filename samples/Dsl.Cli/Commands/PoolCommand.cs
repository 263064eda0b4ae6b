using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DiffusionSteeringLens.Analysis;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>
/// <c>dsl pool</c>: pools the same study run on several models (seeds of one recipe) — each statistic's mean over
/// models with its between-model standard error and t interval (<see cref="PooledEstimate.Pool"/>). Reads the studies'
/// <c>results.json</c> files; writes <c>pooled.json</c> and prints one line per statistic.
/// </summary>
internal static class PoolCommand
{
    public static Command Create(CliHost host)
    {
        var files = new Argument<string[]>("results") { Description = "results.json of the same study (validate, image-scores or overlay) on each model.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--out") { Description = "Folder for pooled.json (default: print only).", HelpName = "DIR" };
        var command = new Command("pool", "Pool one study over several models (e.g. seeds): mean, between-model SE and 95 % t interval of every statistic.") { files, output };
        command.SetAction((r, ct) => CommandRunner.Guard(host, false, () =>
        {
            var paths = r.GetValue(files)!;
            var studies = paths.Select(Read).ToArray();
            var kinds = studies.Select(s => s.Command).Distinct().ToArray();
            if (kinds.Length != 1) throw new CliUsageException($"pool one kind of study at a time; got {string.Join(" and ", kinds)}.");
            var keys = studies[0].Values.Keys.ToArray();
            foreach (var (s, path) in studies.Zip(paths))
            {
                var missing = keys.Except(s.Values.Keys).Concat(s.Values.Keys.Except(keys)).ToArray();
                if (missing.Length > 0) throw new CliUsageException($"{Path.GetFullPath(path)} does not report the same statistics as {Path.GetFullPath(paths[0])} (differs in {string.Join(", ", missing)}).");
            }
            var pooled = keys.ToDictionary(k => k, k => PooledEstimate.Pool(studies.Select(s => s.Values[k]).ToArray()));
            host.Out.WriteLine($"{kinds[0]} pooled over {studies.Length} models (mean, between-model SE, 95 % t interval with {studies.Length - 1} df):");
            foreach (var (k, p) in pooled)
                host.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {k,-28} {p.Mean,8:F3}  SE {p.StandardError,6:F3}  [{p.Low:F3}, {p.High:F3}]  per model: {string.Join(", ", p.Values.Select(v => v.ToString("F3", CultureInfo.InvariantCulture)))}"));
            if (r.GetValue(output) is { } dir)
            {
                Directory.CreateDirectory(dir);
                var doc = new { study = kinds[0], models = paths.Select(Path.GetFullPath).ToArray(), statistics = pooled };
                var file = Path.Combine(dir, "pooled.json");
                File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
                File.Move(file + ".tmp", file, overwrite: true);
                host.Out.WriteLine($"wrote {file}");
            }
            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    private sealed record Study(string Command, Dictionary<string, double> Values);

    /// <summary>The pooled statistics of one results.json: ρ per lens and Δρ (validate, image-scores; and the decoder-seed
    /// agreement of image-scores); presence, removal and percentile (overlay).</summary>
    private static Study Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"results file not found: {Path.GetFullPath(path)}");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new CliUsageException($"{Path.GetFullPath(path)} is not valid JSON ({e.Message})."); }
        using (doc)
        {
            var root = doc.RootElement;
            string Where(string what) => $"{Path.GetFullPath(path)} has no {what}; pool results.json files written by dsl validate, dsl image-scores or dsl overlay.";
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("command", out var cmd) || cmd.ValueKind != JsonValueKind.String)
                throw new CliUsageException(Where("\"command\""));
            var values = new Dictionary<string, double>();
            double Number(JsonElement e, string name) =>
                e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble()
                    : throw new CliUsageException(Where($"number \"{name}\""));
            // validate and image-scores report ρ per lens and Δρ in the same shape (image-scores also its seed agreement).
            var section = root.TryGetProperty("validation", out var v1) && v1.ValueKind == JsonValueKind.Object ? ("validation", v1)
                : root.TryGetProperty("imageSpace", out var v2) && v2.ValueKind == JsonValueKind.Object ? ("imageSpace", v2) : default;
            if (section.Item1 is { } sectionName)
            {
                var val = section.Item2;
                if (!val.TryGetProperty("lenses", out var lenses) || lenses.ValueKind != JsonValueKind.Array) throw new CliUsageException(Where(sectionName + ".lenses"));
                foreach (var lens in lenses.EnumerateArray())
                {
                    var name = lens.TryGetProperty("lens", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : throw new CliUsageException(Where("lens name"));
                    values[$"rho {name}"] = Number(lens.TryGetProperty("correlation", out var c) ? c : default, "rho");
                }
                values["delta-rho DSL - DL"] = Number(val.TryGetProperty("dslVsDl", out var d) ? d : default, "delta");
                if (val.TryGetProperty("contrastVsDl", out var cd) && cd.ValueKind == JsonValueKind.Object)
                    values["delta-rho DSL-contrast - DL"] = Number(cd, "delta");
                if (val.TryGetProperty("trajectories", out var t) && t.ValueKind == JsonValueKind.Object)
                    values["trajectory DSL percentile"] = Number(t, "dslPercentile");
                foreach (var agreement in new[] { "dslSeedAgreement", "dlSeedAgreement" })
                    if (val.TryGetProperty(agreement, out var a) && a.ValueKind == JsonValueKind.Number) values[agreement] = a.GetDouble();
            }
            else if (root.TryGetProperty("overlay", out var o) && o.ValueKind == JsonValueKind.Object)
            {
                values["presence after"] = Number(o, "presenceAfter");
                values["random presence mean"] = Number(o, "randomPresenceMean");
                values["removal rate"] = Number(o, "removedImages") / Number(o, "evaluationImages");
                values["random removal rate"] = Number(o, "randomRemovalRate");
                values["percentile"] = Number(o, "percentile");
                values["clean shift along d"] = Number(o, "cleanShiftAlongDirection");
            }
            else throw new CliUsageException(Where("validation, imageSpace or overlay section"));
            return new Study(cmd.GetString()!, values);
        }
    }
}
