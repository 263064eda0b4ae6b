using DiffusionSteeringLens.Synthetic;

namespace DiffusionSteeringLens.Cli;

/// <summary>Resolves the encoder/decoder folders a user names (or a shipped model) to what the loaders need.</summary>
internal static class ModelFolders
{
    /// <summary>How reports name the default model (it is copied beside the tool binary).</summary>
    public const string ShippedModel = ShippedModels.BesideApplicationFolder + "/" + ShippedModels.Shapes32;

    /// <summary>
    /// The shipped shapes32 model's root (see <see cref="ShippedModels.TryLocate"/>: beside the tool binary, else in a
    /// source checkout above it); the expected place beside the binary when it is nowhere.
    /// </summary>
    public static string ShippedRoot(CliHost host) =>
        ShippedModels.TryLocate(ShippedModels.Shapes32, host.BaseDirectory)
        ?? Path.Combine(host.BaseDirectory, ShippedModels.BesideApplicationFolder, ShippedModels.Shapes32);

    /// <summary>The encoder folder of a shipped model (<c>shapes32</c>, <c>marked96/seed2</c>, …).</summary>
    /// <exception cref="CliUsageException">The model is not installed.</exception>
    public static string ShippedEncoder(string model, CliHost host)
    {
        try { return Path.Combine(ShippedModels.Require(model, host.BaseDirectory), "encoder"); }
        catch (ShippedModelNotFoundException e) { throw new CliUsageException($"{e.Message} Or pass --encoder DIR (an HF encoder folder)."); }
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

    /// <summary>
    /// The decoder folder to use: the one named, else the shipped decoder when the encoder is a shipped one (the default,
    /// or a shipped encoder folder named with --encoder), else null (no decoding).
    /// </summary>
    public static string? ResolveDecoder(string? folder, string? encoder, CliHost host)
    {
        if (folder is not null) return ResolveDecoder(folder, encoderIsShipped: false, host);
        return encoder is null ? ResolveDecoder(null, encoderIsShipped: true, host) : ShippedModels.DecoderFor(encoder);
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
        // The shipped decoder only fits the shipped encoders (their embedding spaces match by construction).
        var shipped = Path.Combine(ShippedRoot(host), "decoder");
        return encoderIsShipped && Directory.Exists(Path.Combine(shipped, "unet")) ? shipped : null;
    }
}
