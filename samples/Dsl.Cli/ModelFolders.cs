namespace DiffusionSteeringLens.Cli;

/// <summary>Resolves the encoder/decoder folders a user names (or the shipped default model) to what the loaders need.</summary>
internal static class ModelFolders
{
    public const string ShippedModel = "models/shapes32";

    /// <summary>
    /// The shipped model's root: next to the tool binary (copied there as content), else — in a source checkout —
    /// <c>samples/models/shapes32</c> in the nearest ancestor folder that has it.
    /// </summary>
    public static string ShippedRoot(CliHost host)
    {
        var beside = Path.Combine(host.BaseDirectory, "models", "shapes32");
        if (Directory.Exists(beside)) return beside;
        for (var dir = new DirectoryInfo(host.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "samples", "models", "shapes32");
            if (File.Exists(Path.Combine(candidate, "encoder", "config.json"))) return candidate;
        }
        return beside;
    }

    /// <summary>
    /// Encoder weights folder and the folder/file holding <c>preprocessor_config.json</c> (null = derive from the model).
    /// Accepts an HF encoder folder (CLIP vision, ViTForImageClassification or Dinov2Model; the family is detected from
    /// config.json when loading) or a Kandinsky prior repo root (<c>image_encoder/</c> + <c>image_processor/</c>).
    /// </summary>
    public static (string Model, string? Processor) ResolveEncoder(string? folder, CliHost host)
    {
        var root = folder ?? Path.Combine(ShippedRoot(host), "encoder");
        if (!Directory.Exists(root))
            throw new CliUsageException(folder is null
                ? $"the shipped model is not installed ({Path.GetFullPath(root)} is missing); pass --encoder DIR (an HF CLIP vision folder)."
                : $"encoder folder not found: {Path.GetFullPath(root)}");
        var model = root;
        string? processor = null;
        var priorEncoder = Path.Combine(root, "image_encoder");
        if (!File.Exists(Path.Combine(root, "config.json")) && Directory.Exists(priorEncoder))
        {
            model = priorEncoder;
            var proc = Path.Combine(root, "image_processor");
            if (File.Exists(Path.Combine(proc, "preprocessor_config.json"))) processor = proc;
        }
        if (!File.Exists(Path.Combine(model, "config.json")))
            throw new CliUsageException($"{Path.GetFullPath(model)} has no config.json; --encoder must be an HF encoder folder (CLIP vision, ViT, DINOv2) or a Kandinsky prior repo root.");
        if (processor is null && File.Exists(Path.Combine(model, "preprocessor_config.json"))) processor = model;
        return (model, processor);
    }

    /// <summary>The decoder folder to use: the one named, else the shipped one when present, else null (no decoding).</summary>
    public static string? ResolveDecoder(string? folder, bool encoderIsShipped, CliHost host)
    {
        if (folder is not null)
        {
            if (!Directory.Exists(folder)) throw new CliUsageException($"decoder folder not found: {Path.GetFullPath(folder)}");
            if (!Directory.Exists(Path.Combine(folder, "unet")))
                throw new CliUsageException($"{Path.GetFullPath(folder)} has no unet/ folder; --decoder must be a diffusers Kandinsky 2.2 decoder folder (unet/, scheduler/, optional movq/).");
            return folder;
        }
        // The shipped decoder only fits the shipped encoder (their embedding widths match by construction).
        var shipped = Path.Combine(ShippedRoot(host), "decoder");
        return encoderIsShipped && Directory.Exists(Path.Combine(shipped, "unet")) ? shipped : null;
    }
}
