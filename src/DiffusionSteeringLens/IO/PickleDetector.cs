namespace DiffusionSteeringLens.IO;

/// <summary>Recognises PyTorch pickle checkpoints (<c>.bin</c>/<c>.pt</c>), which this library refuses to unpickle.</summary>
internal static class PickleDetector
{
    private const string Advice =
        "is a PyTorch pickle checkpoint, which this library does not load (unpickling can run arbitrary code). " +
        "Use the model's .safetensors file instead (Hugging Face repos ship one next to the .bin), or convert it once " +
        "with the safetensors Python package.";

    /// <summary>
    /// Throws when the name is a pickle checkpoint's, or the first bytes are a zip archive (torch.save) or a raw pickle
    /// stream. A safetensors file always has '{' at byte 8, which rules out a false alarm on its length prefix.
    /// </summary>
    public static void ThrowIfPickle(string path, ReadOnlySpan<byte> firstBytes)
    {
        bool safetensorsShape = firstBytes.Length >= 9 && firstBytes[8] == (byte)'{';
        bool zip = firstBytes.Length >= 4 && firstBytes[0] == 'P' && firstBytes[1] == 'K' && firstBytes[2] == 3 && firstBytes[3] == 4;
        bool pickle = !safetensorsShape && firstBytes.Length >= 2 && firstBytes[0] == 0x80 && firstBytes[1] is >= 2 and <= 5;
        bool pickleName = path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pt", StringComparison.OrdinalIgnoreCase)
                          || path.EndsWith(".pth", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".ckpt", StringComparison.OrdinalIgnoreCase);
        if (zip || pickle || pickleName)
            throw new UnsupportedCheckpointFormatException(path, Advice);
    }
}
