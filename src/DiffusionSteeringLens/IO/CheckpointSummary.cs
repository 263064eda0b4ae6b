using System.Text.Json;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using TorchSharp;

namespace DiffusionSteeringLens.IO;

/// <summary>
/// What a checkpoint or config file (or a model folder) holds: detected model family, tensors with dtypes and shapes,
/// parameter count and the config's key facts — what <c>dsl inspect</c> prints.
/// </summary>
/// <param name="Path">The file or folder inspected.</param>
/// <param name="Kind"><c>weights</c>, <c>config</c> or <c>folder</c>.</param>
/// <param name="Family"><c>clip_vision</c>, <c>vit</c>, <c>dinov2</c>, <c>unet</c>, <c>movq</c>, <c>scheduler</c> or <c>unknown</c>.</param>
/// <param name="Component">Finer description, e.g. <c>image processor config</c>; may be null.</param>
/// <param name="Tensors">Tensors of the weights (empty for a config without weights next to it).</param>
/// <param name="Parameters">Number of weight elements; null when unknown (config only and no way to build the model).</param>
/// <param name="ParameterSource">Where <paramref name="Parameters"/> came from (weights file, model built from the config on META…).</param>
/// <param name="ConfigFacts">Key/value facts read from the config.</param>
public sealed record CheckpointSummary(string Path, string Kind, string Family, string? Component, IReadOnlyList<SafetensorsTensorInfo> Tensors,
    long? Parameters, string? ParameterSource, IReadOnlyList<KeyValuePair<string, string>> ConfigFacts)
{
    /// <summary>Total bytes of the tensors.</summary>
    public long TensorBytes => Tensors.Sum(t => t.ByteLength);

    /// <summary>Inspects a safetensors file (single or index), a JSON config, or a model folder.</summary>
    /// <exception cref="FileNotFoundException">The path does not exist.</exception>
    /// <exception cref="CheckpointException">The file is damaged or not a supported format (pickle, bad JSON…).</exception>
    public static CheckpointSummary Inspect(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) return InspectFolder(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"no such file or folder: {System.IO.Path.GetFullPath(path)}", path);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".safetensors.index.json", StringComparison.OrdinalIgnoreCase))
            return InspectWeights(path);
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return InspectConfig(path);
        // Anything else: let the reader decide (it recognises pickles and reports a clear error).
        return InspectWeights(path);
    }

    private static CheckpointSummary InspectWeights(string path)
    {
        using var source = CheckpointLocator.Open(path);
        var infos = source.Names.OrderBy(n => n, StringComparer.Ordinal).Select(source.GetInfo).ToArray();
        var family = FamilyFromNames(infos.Select(i => i.Name).ToArray());
        var facts = new List<KeyValuePair<string, string>>();
        if (source is SafetensorsFile single)
            facts.AddRange(single.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new KeyValuePair<string, string>("metadata." + kv.Key, kv.Value)));
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        var config = System.IO.Path.Combine(dir, "config.json");
        if (File.Exists(config))
        {
            var (cf, _, cfacts) = ReadConfig(config);
            if (family == "unknown") family = cf;
            facts.AddRange(cfacts);
        }
        return new CheckpointSummary(System.IO.Path.GetFullPath(path), "weights", family, null, infos,
            infos.Sum(i => i.ElementCount), "weights file", facts);
    }

    private static CheckpointSummary InspectConfig(string path)
    {
        var (family, component, facts) = ReadConfig(path);
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        IReadOnlyList<SafetensorsTensorInfo> tensors = Array.Empty<SafetensorsTensorInfo>();
        long? parameters = null;
        string? source = null;
        if (family == "scheduler")
        {
            parameters = 0;
            source = "schedulers have no weights";
        }
        else if (TryOpenWeights(dir) is { } weights)
        {
            using (weights)
            {
                tensors = weights.Names.OrderBy(n => n, StringComparer.Ordinal).Select(weights.GetInfo).ToArray();
                parameters = tensors.Sum(t => t.ElementCount);
                source = "weights next to the config";
            }
        }
        else if (MetaParameterCount(family, component, path) is { } count)
        {
            parameters = count;
            source = "model built from the config on the META device (no weights present)";
        }
        return new CheckpointSummary(System.IO.Path.GetFullPath(path), "config", family, component, tensors, parameters, source, facts);
    }

    private static CheckpointSummary InspectFolder(string path)
    {
        foreach (var name in new[] { "config.json", "scheduler_config.json" })
        {
            var file = System.IO.Path.Combine(path, name);
            if (File.Exists(file)) return InspectConfig(file) with { Path = System.IO.Path.GetFullPath(path), Kind = "folder" };
        }
        if (TryOpenWeights(path) is { } weights)
        {
            var file = weights switch { SafetensorsFile f => f.SourcePath, ShardedSafetensors s => s.SourcePath, _ => null };
            weights.Dispose();
            if (file is not null) return InspectWeights(file) with { Path = System.IO.Path.GetFullPath(path), Kind = "folder" };
        }
        // A repo root (e.g. a diffusers decoder): summarise its component folders.
        var parts = Directory.GetDirectories(path).OrderBy(d => d, StringComparer.Ordinal)
            .Where(d => File.Exists(System.IO.Path.Combine(d, "config.json")) || File.Exists(System.IO.Path.Combine(d, "scheduler_config.json")))
            .Select(InspectFolder).ToArray();
        if (parts.Length == 0)
            throw new FileNotFoundException($"{System.IO.Path.GetFullPath(path)} holds no config.json, scheduler_config.json, safetensors weights or model sub-folders.");
        var facts = parts.Select(p => new KeyValuePair<string, string>(System.IO.Path.GetFileName(p.Path), $"{p.Family}, {p.Parameters?.ToString("N0") ?? "?"} parameters")).ToList();
        long? total = parts.All(p => p.Parameters.HasValue) ? parts.Sum(p => p.Parameters!.Value) : null;
        var families = parts.Select(p => p.Family).Distinct().ToArray();
        return new CheckpointSummary(System.IO.Path.GetFullPath(path), "folder", families.Length == 1 ? families[0] : "unknown",
            "components: " + string.Join(", ", parts.Select(p => $"{System.IO.Path.GetFileName(p.Path)} ({p.Family})")),
            parts.SelectMany(p => p.Tensors.Select(t => t with { Name = System.IO.Path.GetFileName(p.Path) + "/" + t.Name })).ToArray(),
            total, "sum of the components", facts);
    }

    private static ITensorSource? TryOpenWeights(string dir)
    {
        try { return CheckpointLocator.Open(dir, "model", "diffusion_pytorch_model"); }
        catch (FileNotFoundException) { return null; }
    }

    private static (string Family, string? Component, List<KeyValuePair<string, string>> Facts) ReadConfig(string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new ConfigException(path, null, "not valid JSON: " + e.Message, e); }
        using (doc)
        {
            var root = doc.RootElement;
            var facts = new List<KeyValuePair<string, string>>();
            if (root.ValueKind != JsonValueKind.Object) return ("unknown", null, facts);
            string? Str(string key) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            foreach (var key in new[] { "_class_name", "model_type", "image_processor_type", "hidden_size", "num_hidden_layers", "num_attention_heads",
                         "projection_dim", "image_size", "patch_size", "block_out_channels", "in_channels", "out_channels", "encoder_hid_dim",
                         "num_train_timesteps", "beta_schedule", "variance_type", "prediction_type", "crop_size", "size", "latent_channels", "num_vq_embeddings" })
                if (root.TryGetProperty(key, out var v)) facts.Add(new(key, v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText()));
            var cls = Str("_class_name") ?? "";
            var modelType = Str("model_type") ?? "";
            bool clipArch = root.TryGetProperty("architectures", out var arch) && arch.ValueKind == JsonValueKind.Array
                && arch.EnumerateArray().Any(a => a.ValueKind == JsonValueKind.String && a.GetString()!.StartsWith("CLIPVision", StringComparison.Ordinal));
            if (modelType == "clip_vision_model" || clipArch) return ("clip_vision", "model config", facts);
            if (modelType is "vit" or "dinov2") return (modelType, "model config", facts);
            if (root.TryGetProperty("image_processor_type", out _) || (root.TryGetProperty("crop_size", out _) && root.TryGetProperty("image_mean", out _)))
                return ("clip_vision", "image processor config", facts);
            if (cls == "UNet2DConditionModel") return ("unet", "model config", facts);
            if (cls == "VQModel") return ("movq", "model config", facts);
            if (cls.EndsWith("Scheduler", StringComparison.Ordinal) || root.TryGetProperty("num_train_timesteps", out _)) return ("scheduler", cls.Length > 0 ? cls : "scheduler config", facts);
            return ("unknown", null, facts);
        }
    }

    private static string FamilyFromNames(IReadOnlyList<string> names)
    {
        if (names.Any(n => n.StartsWith("vision_model.", StringComparison.Ordinal))) return "clip_vision";
        if (names.Any(n => n.StartsWith("vit.encoder.layer.", StringComparison.Ordinal))) return "vit";
        if (names.Contains("embeddings.mask_token") && names.Any(n => n.StartsWith("encoder.layer.", StringComparison.Ordinal))) return "dinov2";
        if (names.Contains("conv_in.weight") && names.Any(n => n.StartsWith("time_embedding.", StringComparison.Ordinal))) return "unet";
        if (names.Any(n => n.StartsWith("quantize.", StringComparison.Ordinal) || n.StartsWith("post_quant_conv.", StringComparison.Ordinal))) return "movq";
        return "unknown";
    }

    // Config-only files (e.g. reference manifests of full-size models): count parameters by building the model on META.
    private static long? MetaParameterCount(string family, string? component, string path)
    {
        if (component != "model config") return null;
        try
        {
            switch (family)
            {
                case "clip_vision":
                {
                    using var m = new ClipVisionModelWithProjection(ClipVisionConfig.Load(path), torch.META);
                    return m.parameters().Sum(p => p.numel());
                }
                case "unet":
                {
                    using var m = new UNet2DConditionModel(UNet2DConditionConfig.Load(path), torch.META);
                    return m.parameters().Sum(p => p.numel());
                }
                default:
                    return null;
            }
        }
        catch (ConfigException)
        {
            return null;
        }
    }
}
