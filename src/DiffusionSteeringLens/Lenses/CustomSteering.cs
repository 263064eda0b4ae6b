using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>Any user function of (clean output, residual norm, target).</summary>
/// <param name="Name">Label for reports.</param>
/// <param name="Function">σ; must return a new tensor of the input's shape and not dispose its inputs.</param>
public sealed record CustomSteering(string Name, Func<torch.Tensor, torch.Tensor, SubmoduleTarget, torch.Tensor> Function) : SteeringFunction
{
    /// <inheritdoc />
    public override torch.Tensor Apply(torch.Tensor output, SteeringReference reference, SubmoduleTarget target)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return Function(output, reference.ResidualNorm, target);
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
