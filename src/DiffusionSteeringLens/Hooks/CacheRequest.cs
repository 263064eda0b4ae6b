namespace DiffusionSteeringLens.Hooks;

/// <summary>What <c>RunWithCache</c> keeps: which hook points, and optionally only some token positions.</summary>
/// <remarks>
/// At ViT-bigG size the per-head result cache is ~27 MB per layer per image; caching only the CLS position
/// (<see cref="Positions"/> = [0]) makes all-heads work cheap. With a positions filter, token-axis tensors keep only those
/// positions (in the given order) on their token axis; attention patterns keep them on the query axis.
/// </remarks>
public sealed record CacheRequest
{
    /// <summary>Which points to keep; null keeps every point that is produced anyway (on-demand points need naming).</summary>
    public Func<string, bool>? NameFilter { get; init; }

    /// <summary>Token positions to keep; null keeps all.</summary>
    public IReadOnlyList<int>? Positions { get; init; }

    /// <summary>Everything cheap, all positions.</summary>
    public static CacheRequest All { get; } = new();

    /// <summary>Exactly these names.</summary>
    public static CacheRequest ForNames(IEnumerable<string> names, IReadOnlyList<int>? positions = null)
    {
        var set = new HashSet<string>(names, StringComparer.Ordinal);
        return new CacheRequest { NameFilter = set.Contains, Positions = positions };
    }
}
