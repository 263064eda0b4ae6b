using System.CommandLine;
using DiffusionSteeringLens.IO;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>
/// <c>dsl inspect PATH</c>: summary of a checkpoint or config file, or of every model component in a folder (encoder,
/// UNet, MoVQ, scheduler, Kandinsky decoder root, or a folder of these).
/// </summary>
internal static class InspectCommand
{
    public static Command Create(CliHost host)
    {
        var path = new Argument<string>("path") { Description = "A .safetensors file (or .index.json), a config .json, or a folder: an encoder, UNet, MoVQ or scheduler folder, a Kandinsky decoder root, or a folder of these." };
        var all = new Option<bool>("--all") { Description = "List every tensor (default: the first 40)." };
        var verbose = new Option<bool>("--verbose") { Description = "Stack traces of internal errors." };
        var command = new Command("inspect", "Print a checkpoint/config summary (family, tensors, parameter count), or one line per model component of a folder.") { path, all, verbose };
        command.SetAction((r, ct) => CommandRunner.Guard(host, r.GetValue(verbose), () =>
        {
            var p = r.GetValue(path)!;
            if (!File.Exists(p) && !Directory.Exists(p)) throw new CliUsageException($"no such file or folder: {Path.GetFullPath(p)}");
            if (Directory.Exists(p)) PrintFolder(host.Out, p, r.GetValue(all));
            else PrintCheckpoint(host.Out, CheckpointSummary.Inspect(p), r.GetValue(all));
            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    // One file, or a folder that is a single component: family, parameters, tensors and config facts.
    private static void PrintCheckpoint(TextWriter o, CheckpointSummary s, bool all, ModelComponent? component = null)
    {
        o.WriteLine($"path:       {s.Path}");
        o.WriteLine($"kind:       {s.Kind}");
        o.WriteLine($"family:     {s.Family}" + (s.Component is null ? "" : $" ({s.Component})"));
        if (component is not null) o.WriteLine($"summary:    {component.Details}; {component.DType}");
        o.WriteLine($"parameters: {(s.Parameters is { } n ? $"{n:N0} ({Human(n)})" : "unknown (no weights and the config cannot be built)")}" + (s.ParameterSource is null ? "" : $" — {s.ParameterSource}"));
        PrintTensors(o, s.Tensors, all);
        foreach (var (k, v) in s.ConfigFacts) o.WriteLine($"  {k}: {v}");
    }

    // A folder: itself when it is one component, else every component below it (see ModelFolderInspection).
    private static void PrintFolder(TextWriter o, string folder, bool all)
    {
        var full = Path.GetFullPath(folder);
        var components = ModelFolderInspection.Find(full);
        if (components.Count == 0)
            throw new CliUsageException($"{full} holds no model component: expected an encoder (CLIP / ViT / DINOv2), UNet, MoVQ or scheduler folder " +
                "(config.json or scheduler_config.json), a Kandinsky decoder root (unet/, scheduler/, optional movq/), or a folder of these.");
        if (components is [{ RelativePath: "." } single])
        {
            PrintCheckpoint(o, single.Checkpoint, all, single);
            return;
        }
        var decoders = ModelFolderInspection.DecoderRoots(components);
        var families = components.Select(c => c.Family).Distinct(StringComparer.Ordinal).ToArray();
        // A decoder root holds nothing but its parts; anything else with several components is a collection.
        bool onlyDecoder = decoders is ["."] && components.All(c => c.RelativePath is "unet" or "scheduler" or "movq");
        string family = onlyDecoder ? "kandinsky_decoder" : families.Length == 1 ? families[0] : "collection";
        var known = components.Where(c => c.Checkpoint.Parameters.HasValue).ToArray();
        long total = known.Sum(c => c.Checkpoint.Parameters!.Value);
        var missing = components.Where(c => !c.Checkpoint.Parameters.HasValue).Select(c => c.RelativePath).ToArray();

        o.WriteLine($"path:       {full}");
        o.WriteLine("kind:       folder");
        o.WriteLine($"family:     {family} ({components.Count} components)");
        o.WriteLine($"parameters: {total:N0} ({Human(total)}) — sum of the components" + (missing.Length == 0 ? "" : $"; unknown for {string.Join(", ", missing)}"));
        o.WriteLine("components:");
        int width = components.Max(c => c.RelativePath.Length);
        int familyWidth = components.Max(c => c.Family.Length);
        foreach (var c in components)
        {
            var parameters = c.Checkpoint.Parameters is { } n ? $"{n:N0} parameters" : "parameters unknown";
            o.WriteLine($"  {c.RelativePath.PadRight(width)}  {c.Family.PadRight(familyWidth)}  {c.Details}; {c.DType}; {parameters}");
        }
        foreach (var root in decoders)
        {
            bool movq = components.Any(c => c.Family == "movq" && c.RelativePath == (root == "." ? "movq" : root + "/movq"));
            o.WriteLine($"decoder:    {root} — Kandinsky 2.2 decoder: unet + scheduler" + (movq ? " + movq" : " (no movq: the UNet's output is the picture)"));
        }
        PrintTensors(o, components.SelectMany(c => c.Checkpoint.Tensors.Select(t => t with { Name = c.RelativePath + "/" + t.Name })).ToArray(), all);
    }

    private static void PrintTensors(TextWriter o, IReadOnlyList<SafetensorsTensorInfo> tensors, bool all)
    {
        if (tensors.Count == 0) return;
        var dtypes = tensors.GroupBy(t => t.DType).Select(g => $"{g.Key} ×{g.Count()}");
        o.WriteLine($"tensors:    {tensors.Count} ({string.Join(", ", dtypes)}), {tensors.Sum(t => t.ByteLength) / 1048576.0:0.00} MiB");
        int width = Math.Min(72, tensors.Max(t => t.Name.Length));
        foreach (var t in all ? tensors : tensors.Take(40))
            o.WriteLine($"  {t.Name.PadRight(width)}  {t.DType,-5} {t.ShapeText}");
        if (!all && tensors.Count > 40) o.WriteLine($"  … {tensors.Count - 40} more (--all lists them)");
    }

    private static string Human(long n) => n >= 1_000_000_000 ? $"{n / 1e9:0.00} B" : n >= 1_000_000 ? $"{n / 1e6:0.00} M" : n >= 1_000 ? $"{n / 1e3:0.0} K" : n.ToString();
}
