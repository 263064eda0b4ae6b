namespace DiffusionSteeringLens.IO;

/// <summary>Base type of every error about a checkpoint or config file; <see cref="FilePath"/> names the file at fault.</summary>
public class CheckpointException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CheckpointException(string filePath, string message, Exception? inner = null)
        : base($"{filePath}: {message}", inner) => FilePath = filePath;

    /// <summary>The file (or folder) the problem was found in.</summary>
    public string FilePath { get; }
}

/// <summary>A safetensors file violates the format (header size, JSON, dtype, shape/offset consistency).</summary>
public sealed class SafetensorsFormatException : CheckpointException
{
    /// <summary>Creates the exception.</summary>
    public SafetensorsFormatException(string filePath, string message, Exception? inner = null) : base(filePath, message, inner) { }
}

/// <summary>The checkpoint is in a format this library refuses to read (e.g. a pickle <c>.bin</c>).</summary>
public sealed class UnsupportedCheckpointFormatException : CheckpointException
{
    /// <summary>Creates the exception.</summary>
    public UnsupportedCheckpointFormatException(string filePath, string message) : base(filePath, message) { }
}

/// <summary>A config JSON file is malformed or has a bad value; <see cref="Key"/> names the key at fault.</summary>
public sealed class ConfigException : CheckpointException
{
    /// <summary>Creates the exception.</summary>
    public ConfigException(string filePath, string? key, string message, Exception? inner = null)
        : base(filePath, key is null ? message : $"key '{key}': {message}", inner) => Key = key;

    /// <summary>The offending key, or null when the file as a whole is bad.</summary>
    public string? Key { get; }
}
