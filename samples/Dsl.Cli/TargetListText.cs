namespace DiffusionSteeringLens.Cli;

/// <summary>Checks a <c>--targets</c> value before any model is loaded (the full parse needs the encoder's architecture).</summary>
internal static class TargetListText
{
    /// <exception cref="CliUsageException">The list has no entries (empty, blanks or commas only).</exception>
    public static void RequireEntries(string text)
    {
        if (text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Length == 0)
            throw new CliUsageException($"--targets: empty target list ('{text}'); use e.g. all-heads, L2H1,mlp:3 or L2-3.");
    }
}
