using DiffusionSteeringLens.Hooks;

namespace DiffusionSteeringLens.Lenses;

/// <summary>One layer's MLP output.</summary>
/// <param name="Layer">Layer index.</param>
public sealed record MlpTarget(int Layer) : SubmoduleTarget
{
    /// <inheritdoc />
    public override int Layer { get; } = Layer;
    /// <inheritdoc />
    public override string Label => $"mlp:{Layer}";
    /// <inheritdoc />
    public override string HookName => HookNames.MlpOut(Layer);
}
