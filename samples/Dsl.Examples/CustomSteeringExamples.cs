using DiffusionSteeringLens.Lenses;
using TorchSharp;

namespace DiffusionSteeringLens.Examples;

/// <summary>Custom steering functions: any σ(clean output, residual norm, target) can drive the DSL.</summary>
public static class CustomSteeringExamples
{
    /// <summary>
    /// Sets every steered output to a fixed norm (a multiple of the residual norm) in its own direction: like
    /// <see cref="RelativeSteering"/> but replacing instead of adding.
    /// </summary>
    public static SteeringFunction FixedNorm(double multiple) =>
        new CustomSteering($"fixed-norm:{multiple}", (output, residualNorm, _) =>
        {
            using var scope = torch.NewDisposeScope();
            var direction = output / output.norm(-1, keepdim: true).clamp_min(1e-12);
            return (direction * residualNorm * multiple).MoveToOuterDisposeScope();
        });

    /// <summary>Steers heads strongly and MLPs gently: σ may depend on the target.</summary>
    public static SteeringFunction ByKind(double headAlpha, double mlpAlpha) =>
        new CustomSteering($"heads×{headAlpha},mlps×{mlpAlpha}", (output, _, target) =>
            output * (target is HeadTarget ? headAlpha : mlpAlpha));
}
