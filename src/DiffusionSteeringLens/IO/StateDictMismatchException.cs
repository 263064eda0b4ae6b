namespace DiffusionSteeringLens.IO;

/// <summary>
/// A checkpoint does not fit a module. Lists every missing, unexpected, mis-shaped and mis-typed key at once.
/// </summary>
public sealed class StateDictMismatchException : CheckpointException
{
    /// <summary>Creates the exception from the four problem lists.</summary>
    public StateDictMismatchException(string filePath, string moduleName, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<string> shapeMismatches, IReadOnlyList<string> dtypeMismatches)
        : base(filePath, Describe(moduleName, missing, unexpected, shapeMismatches, dtypeMismatches))
    {
        Missing = missing;
        Unexpected = unexpected;
        ShapeMismatches = shapeMismatches;
        DTypeMismatches = dtypeMismatches;
    }

    /// <summary>Keys the module has and the checkpoint lacks.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Keys the checkpoint has and the module lacks (after the ignore list).</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>"key: checkpoint [..] vs module [..]" lines.</summary>
    public IReadOnlyList<string> ShapeMismatches { get; }

    /// <summary>"key: checkpoint I64 vs module Float32" lines.</summary>
    public IReadOnlyList<string> DTypeMismatches { get; }

    private static string Describe(string module, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<string> shapes, IReadOnlyList<string> dtypes)
    {
        var parts = new List<string> { $"checkpoint does not match {module}:" };
        void Add(string title, IReadOnlyList<string> items)
        {
            if (items.Count == 0) return;
            parts.Add($"  {items.Count} {title}:");
            parts.AddRange(items.Select(i => "    " + i));
        }
        Add("missing key(s)", missing);
        Add("unexpected key(s)", unexpected);
        Add("shape mismatch(es)", shapes);
        Add("dtype mismatch(es)", dtypes);
        return string.Join(Environment.NewLine, parts);
    }
}
