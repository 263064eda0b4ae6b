using DiffusionSteeringLens.Hooks;

namespace DiffusionSteeringLens.Lenses;

/// <summary>A residual-stream site.</summary>
/// <param name="Layer">Layer index.</param>
/// <param name="Position">Pre, mid or post.</param>
public sealed record ResidualTarget(int Layer, ResidualPosition Position) : LensTarget
{
    /// <inheritdoc />
    public override int Layer { get; } = Layer;
    /// <inheritdoc />
    public override string Label => $"resid_{Position.ToString().ToLowerInvariant()}:{Layer}";
    /// <inheritdoc />
    public override string HookName => Position switch
    {
        ResidualPosition.Pre => HookNames.ResidPre(Layer),
        ResidualPosition.Mid => HookNames.ResidMid(Layer),
        _ => HookNames.ResidPost(Layer),
    };
}
