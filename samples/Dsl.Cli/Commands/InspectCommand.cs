using System.CommandLine;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Reports;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary><c>dsl inspect PATH</c>: summary of a checkpoint, config or model folder.</summary>
internal static class InspectCommand
{
    public static Command Create(CliHost host)
    {
        var path = new Argument<string>("path") { Description = "A .safetensors file (or .index.json), a config .json, or a model folder." };
        var all = new Option<bool>("--all") { Description = "List every tensor (default: the first 40)." };
        var verbose = new Option<bool>("--verbose") { Description = "Stack traces of internal errors." };
        var command = new Command("inspect", "Print a checkpoint/config summary: family, tensors (dtype, shape), parameter count.") { path, all, verbose };
        command.SetAction((r, ct) => CommandRunner.Guard(host, r.GetValue(verbose), () =>
        {
            var p = r.GetValue(path)!;
            if (!File.Exists(p) && !Directory.Exists(p)) throw new CliUsageException($"no such file or folder: {Path.GetFullPath(p)}");
            var s = CheckpointSummary.Inspect(p);
            var o = host.Out;
            o.WriteLine($"path:       {s.Path}");
            o.WriteLine($"kind:       {s.Kind}");
            o.WriteLine($"family:     {s.Family}" + (s.Component is null ? "" : $" ({s.Component})"));
            o.WriteLine($"parameters: {(s.Parameters is { } n ? $"{n:N0} ({Human(n)})" : "unknown (no weights and the config cannot be built)")}" + (s.ParameterSource is null ? "" : $" — {s.ParameterSource}"));
            if (s.Tensors.Count > 0)
            {
                var dtypes = s.Tensors.GroupBy(t => t.DType).Select(g => $"{g.Key} ×{g.Count()}");
                o.WriteLine($"tensors:    {s.Tensors.Count} ({string.Join(", ", dtypes)}), {s.TensorBytes / 1048576.0:0.00} MiB");
                int width = Math.Min(72, s.Tensors.Max(t => t.Name.Length));
                foreach (var t in r.GetValue(all) ? s.Tensors : s.Tensors.Take(40))
                    o.WriteLine($"  {t.Name.PadRight(width)}  {t.DType,-5} {t.ShapeText}");
                if (!r.GetValue(all) && s.Tensors.Count > 40) o.WriteLine($"  … {s.Tensors.Count - 40} more (--all lists them)");
            }
            foreach (var (k, v) in s.ConfigFacts) o.WriteLine($"  {k}: {v}");
            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    private static string Human(long n) => n >= 1_000_000_000 ? $"{n / 1e9:0.00} B" : n >= 1_000_000 ? $"{n / 1e6:0.00} M" : n >= 1_000 ? $"{n / 1e3:0.0} K" : n.ToString();
}
