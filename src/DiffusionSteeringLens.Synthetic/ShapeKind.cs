namespace DiffusionSteeringLens.Synthetic;

/// <summary>The shape classes of the synthetic domain (the integer value is the class index).</summary>
public enum ShapeKind
{
    /// <summary>Disc: dx² + dy² ≤ s².</summary>
    Circle = 0,
    /// <summary>Axis-aligned square: |dx|, |dy| ≤ 0.85 s.</summary>
    Square = 1,
    /// <summary>Upward triangle: −s ≤ dy ≤ 0.8 s and |dx| ≤ 0.62 (dy + s).</summary>
    Triangle = 2,
    /// <summary>Plus sign: two bars of half-width 0.35 s and half-length s.</summary>
    Cross = 3,
}
