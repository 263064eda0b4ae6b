using System.Globalization;
using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// σ(o) = o + α·‖r_final‖·o/ν with ν the mean CLS write norm over all heads of the model on the same image: one
/// amplification factor for every head of an image, so heads keep their norm differences (unlike
/// <see cref="RelativeSteering"/>), while α is relative to the residual and the heads' typical size, not an absolute
/// factor (unlike <see cref="ScaleSteering"/>). ν does not depend on which targets are requested. An MLP target is
/// amplified by the same factor.
/// </summary>
/// <param name="Alpha">Strength: a head of average write norm is pushed by α·‖r_final‖.</param>
internal sealed record GlobalScaleSteering(double Alpha) : SteeringFunction
{
    /// <inheritdoc />
    /// <exception cref="ArgumentException">The reference has no mean head write norm.</exception>
    public override torch.Tensor Apply(torch.Tensor output, SteeringReference reference, SubmoduleTarget target)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var nu = reference.MeanHeadWriteNorm
            ?? throw new ArgumentException("GlobalScaleSteering needs the mean head write norm ν in the steering reference.", nameof(reference));
        using var scope = torch.NewDisposeScope();
        var factor = reference.ResidualNorm / nu.clamp_min(1e-12) * Alpha; // [..., 1]
        return (output + output * factor).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override bool UsesMeanHeadWriteNorm => true;

    /// <inheritdoc />
    public override bool IsLinear => true;

    /// <inheritdoc />
    public override string ToString() => $"global:{Alpha.ToString(CultureInfo.InvariantCulture)}";
}
