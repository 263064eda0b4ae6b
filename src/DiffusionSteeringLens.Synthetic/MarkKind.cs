namespace DiffusionSteeringLens.Synthetic;

/// <summary>
/// The overlay kinds of the <see cref="MarkedShapeDomain"/>, each drawn in its own corner so that it is a separate
/// attribute living in separate patches: the original stripe patch (bottom right) and three new marks.
/// </summary>
public enum MarkKind
{
    /// <summary>White horizontal stripes, bottom-right corner (<see cref="ShapeDomain"/>'s overlay).</summary>
    Stripes = 0,

    /// <summary>A 3×3 grid of white dots, top-left corner.</summary>
    Dots = 1,

    /// <summary>A white diagonal cross (an X), top-right corner.</summary>
    Cross = 2,

    /// <summary>A white vertical bar, bottom-left corner.</summary>
    Bar = 3,
}
