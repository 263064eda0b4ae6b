namespace DiffusionSteeringLens.IO;

/// <summary>Options of strict weight loading (a family's <c>FromPretrained</c> through <see cref="Models.Vit.HookedVitModel"/>'s <c>LoadWeights</c>).</summary>
public sealed record StateDictLoadOptions
{
    /// <summary>
    /// Checkpoint keys that may be present without a matching module entry (known extras such as CLIP's
    /// <c>vision_model.embeddings.position_ids</c>). An entry ending in <c>*</c> is a prefix.
    /// </summary>
    public IReadOnlyList<string> IgnoreUnexpected { get; init; } = Array.Empty<string>();

    /// <summary>Module keys that may be absent from the checkpoint (kept as initialised). Same pattern rules.</summary>
    public IReadOnlyList<string> AllowMissing { get; init; } = Array.Empty<string>();

    /// <summary>Maps a checkpoint key to the module's spelling (e.g. older attention names); null keeps it.</summary>
    public Func<string, string>? RenameCheckpointKey { get; init; }

    /// <summary>Display name of the module for messages.</summary>
    public string? ModuleName { get; init; }

    internal static bool Matches(IReadOnlyList<string> patterns, string key) =>
        patterns.Any(p => p.EndsWith('*') ? key.StartsWith(p[..^1], StringComparison.Ordinal) : p == key);
}
