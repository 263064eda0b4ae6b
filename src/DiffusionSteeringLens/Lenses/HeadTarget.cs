using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Lenses;

/// <summary>One attention head's result (its out-projected contribution, bias excluded).</summary>
/// <param name="Layer">Layer index.</param>
/// <param name="Head">Head index.</param>
public sealed record HeadTarget(int Layer, int Head) : SubmoduleTarget
{
    /// <inheritdoc />
    public override int Layer { get; } = Layer;
    /// <inheritdoc />
    public override string Label => $"L{Layer}H{Head}";
    /// <inheritdoc />
    public override string HookName => HookNames.Result(Layer);

    /// <inheritdoc />
    public override void Validate(VitArchitecture arch)
    {
        base.Validate(arch);
        if (Head < 0 || Head >= arch.NumHeads)
            throw new ArgumentOutOfRangeException(nameof(Head), $"target {Label}: head {Head} is outside 0..{arch.NumHeads - 1}.");
    }
}
