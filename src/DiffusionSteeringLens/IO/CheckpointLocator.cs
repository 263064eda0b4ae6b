namespace DiffusionSteeringLens.IO;

/// <summary>Finds the weights of a Hugging Face-format model folder (single or sharded safetensors).</summary>
internal static class CheckpointLocator
{
    private static readonly string[] PickleNames = { ".bin", ".pt", ".pth", ".ckpt" };

    /// <summary>
    /// Opens the weights in <paramref name="folder"/>, trying each base name in order (e.g. <c>model</c>,
    /// <c>diffusion_pytorch_model</c>): <c>NAME.safetensors</c>, then <c>NAME.safetensors.index.json</c>.
    /// A path to a file is opened directly.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="UnsupportedCheckpointFormatException">Only pickle weights are present.</exception>
    /// <exception cref="FileNotFoundException">No weights at all; the message lists the names looked for.</exception>
    public static ITensorSource Open(string folder, params string[] baseNames)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (File.Exists(folder))
            return folder.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase)
                ? ShardedSafetensors.Open(folder)
                : SafetensorsFile.Open(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder not found: {Path.GetFullPath(folder)}");
        if (baseNames.Length == 0) baseNames = new[] { "model", "diffusion_pytorch_model" };
        foreach (var b in baseNames)
        {
            var single = Path.Combine(folder, b + ".safetensors");
            if (File.Exists(single)) return SafetensorsFile.Open(single);
            var index = Path.Combine(folder, b + ".safetensors.index.json");
            if (File.Exists(index)) return ShardedSafetensors.Open(index);
        }
        foreach (var b in baseNames)
            foreach (var ext in PickleNames)
            {
                var pickle = Path.Combine(folder, b + ext);
                if (File.Exists(pickle))
                    throw new UnsupportedCheckpointFormatException(pickle,
                        "only a PyTorch pickle checkpoint was found, which this library does not load (unpickling can run arbitrary code). " +
                        $"Put '{b}.safetensors' (or a sharded '{b}.safetensors.index.json') in {Path.GetFullPath(folder)}; Hugging Face repos ship it next to the .bin.");
            }
        throw new FileNotFoundException(
            $"No weights in {Path.GetFullPath(folder)}: looked for {string.Join(", ", baseNames.Select(b => b + ".safetensors[.index.json]"))}.");
    }
}
