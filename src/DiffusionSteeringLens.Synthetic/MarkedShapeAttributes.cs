namespace DiffusionSteeringLens.Synthetic;

/// <summary>The ground truth of one <see cref="MarkedShapeDomain"/> image.</summary>
/// <param name="Base">The shape, colour, size, jitter, background and stripe overlay (a <see cref="ShapeDomain"/> record).</param>
/// <param name="Dots">Whether the dot grid is drawn.</param>
/// <param name="Cross">Whether the diagonal cross is drawn.</param>
/// <param name="Bar">Whether the vertical bar is drawn.</param>
/// <param name="Count">How many dark ticks stand in the top band (0 … <see cref="MarkedShapeDomain.MaxCount"/>): an
/// attribute spread over several patches, so reading it needs attention across patches.</param>
public sealed record MarkedShapeAttributes(ShapeAttributes Base, bool Dots, bool Cross, bool Bar, int Count)
{
    /// <summary>Whether mark <paramref name="kind"/> is drawn.</summary>
    public bool Has(MarkKind kind) => kind switch
    {
        MarkKind.Stripes => Base.Overlay,
        MarkKind.Dots => Dots,
        MarkKind.Cross => Cross,
        MarkKind.Bar => Bar,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <inheritdoc />
    public override string ToString()
    {
        var marks = Enum.GetValues<MarkKind>().Where(Has).Select(k => k.ToString().ToLowerInvariant());
        return $"{Base} [{string.Join(", ", marks)}; {Count} ticks]";
    }
}
