namespace DiffusionSteeringLens.Imaging;

/// <summary>An image file (or buffer) could not be decoded: not an image format Skia knows, truncated, or corrupt.</summary>
public sealed class ImageDecodeException : IOException
{
    /// <summary>Creates the exception; the message starts with <paramref name="source"/>.</summary>
    public ImageDecodeException(string source, string message, Exception? inner = null)
        : base($"{source}: {message}", inner) => FilePath = source;

    /// <summary>The file path (or a caller-chosen label for in-memory data) that failed to decode.</summary>
    public string FilePath { get; }
}
