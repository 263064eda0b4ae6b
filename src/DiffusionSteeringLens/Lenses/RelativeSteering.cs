using System.Globalization;
using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// σ(o) = o + λ·‖r_final‖·o/‖o‖: adds the output's direction with a strength relative to the residual norm, so heads of
/// very different output norms are comparable. A zero output stays zero.
/// </summary>
/// <param name="Lambda">Strength relative to the clean final residual norm.</param>
public sealed record RelativeSteering(double Lambda) : SteeringFunction
{
    /// <inheritdoc />
    public override torch.Tensor Apply(torch.Tensor output, SteeringReference reference, SubmoduleTarget target)
    {
        ArgumentNullException.ThrowIfNull(reference);
        using var scope = torch.NewDisposeScope();
        var norm = output.norm(-1, keepdim: true).clamp_min(1e-12);
        return (output + output / norm * reference.ResidualNorm * Lambda).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override string ToString() => $"relative:{Lambda.ToString(CultureInfo.InvariantCulture)}";
}
