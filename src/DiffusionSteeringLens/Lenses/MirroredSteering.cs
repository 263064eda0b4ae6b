using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// σ⁻(o) = 2·o − σ(o): the steering push of <paramref name="Inner"/> applied in the opposite direction (the write is
/// moved by −(σ(o) − o) instead of +(σ(o) − o)). With it the contrast score compares "this head's direct contribution
/// amplified" with "suppressed" (<see cref="Analysis.HeadScoring"/>); a zero push stays zero on both sides.
/// </summary>
/// <param name="Inner">The steering whose push is mirrored.</param>
internal sealed record MirroredSteering(SteeringFunction Inner) : SteeringFunction
{
    /// <inheritdoc />
    public override torch.Tensor Apply(torch.Tensor output, SteeringReference reference, SubmoduleTarget target)
    {
        using var scope = torch.NewDisposeScope();
        return (output * 2 - Inner.Apply(output, reference, target)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override bool IsLinear => Inner.IsLinear;

    /// <inheritdoc />
    public override bool UsesMeanHeadWriteNorm => Inner.UsesMeanHeadWriteNorm;

    /// <inheritdoc />
    public override string ToString() => $"mirrored({Inner})";
}
