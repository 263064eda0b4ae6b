namespace DiffusionSteeringLens.Cli;

/// <summary>Bad input or usage: reported as one line on stderr with exit code 1.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
