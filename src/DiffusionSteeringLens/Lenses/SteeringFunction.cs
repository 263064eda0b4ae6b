using System.Globalization;
using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// σ in the Diffusion Steering Lens: maps a submodule's clean output to its steered output. Works on batches:
/// <c>output</c> is [..., D] and <c>residualNorm</c> is the clean final residual norm at the same rows, shaped [..., 1].
/// </summary>
/// <remarks>
/// No steering strength is claimed as "the paper's default" (the paper's value could not be read). The library's own default,
/// <see cref="Default"/>, is Scale(α = 8): strong enough that one head's direct contribution dominates the clean residual
/// at bigG scale yet keeps the read-out inside the decoder's training range on our tiny models. Calibrate per model.
/// </remarks>
public abstract record SteeringFunction
{
    /// <summary>Returns σ(o) with the same shape as <paramref name="output"/>.</summary>
    /// <param name="output">Clean outputs [..., D].</param>
    /// <param name="residualNorm">‖r_final‖ of the clean run at the same rows, [..., 1].</param>
    /// <param name="target">The submodule being steered (for custom functions).</param>
    public abstract torch.Tensor Apply(torch.Tensor output, torch.Tensor residualNorm, SubmoduleTarget target);

    /// <summary>True when σ is linear in o (then steering z or the result gives the same answer).</summary>
    public virtual bool IsLinear => false;

    /// <summary>Our default (documented as ours): Scale(8).</summary>
    public static SteeringFunction Default { get; } = new ScaleSteering(8);

    /// <summary>Parses <c>scale:&lt;α&gt;</c> or <c>relative:&lt;λ&gt;</c>.</summary>
    /// <exception cref="FormatException">Unrecognised text.</exception>
    public static SteeringFunction Parse(string text)
    {
        var parts = text.Trim().Split(':', 2);
        if (parts.Length == 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v))
        {
            switch (parts[0].ToLowerInvariant())
            {
                case "scale": return new ScaleSteering(v);
                case "relative": return new RelativeSteering(v);
            }
        }
        throw new FormatException($"'{text}' is not a steering function; use scale:<alpha> (e.g. scale:8) or relative:<lambda> (e.g. relative:1.5).");
    }
}

/// <summary>σ(o) = α·o. α = 1 leaves the model unchanged (the clean picture).</summary>
/// <param name="Alpha">Scale factor.</param>
public sealed record ScaleSteering(double Alpha) : SteeringFunction
{
    /// <inheritdoc />
    public override torch.Tensor Apply(torch.Tensor output, torch.Tensor residualNorm, SubmoduleTarget target) => output * Alpha;
    /// <inheritdoc />
    public override bool IsLinear => true;
    /// <inheritdoc />
    public override string ToString() => $"scale:{Alpha.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>
/// σ(o) = o + λ·‖r_final‖·o/‖o‖: adds the output's direction with a strength relative to the residual norm, so heads of
/// very different output norms are comparable. A zero output stays zero.
/// </summary>
/// <param name="Lambda">Strength relative to the clean final residual norm.</param>
public sealed record RelativeSteering(double Lambda) : SteeringFunction
{
    /// <inheritdoc />
    public override torch.Tensor Apply(torch.Tensor output, torch.Tensor residualNorm, SubmoduleTarget target)
    {
        using var scope = torch.NewDisposeScope();
        var norm = output.norm(-1, keepdim: true).clamp_min(1e-12);
        return (output + output / norm * residualNorm * Lambda).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override string ToString() => $"relative:{Lambda.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>Any user function of (clean output, residual norm, target).</summary>
/// <param name="Name">Label for reports.</param>
/// <param name="Function">σ; must return a new tensor of the input's shape and not dispose its inputs.</param>
public sealed record CustomSteering(string Name, Func<torch.Tensor, torch.Tensor, SubmoduleTarget, torch.Tensor> Function) : SteeringFunction
{
    /// <inheritdoc />
    public override torch.Tensor Apply(torch.Tensor output, torch.Tensor residualNorm, SubmoduleTarget target) =>
        Function(output, residualNorm, target);

    /// <inheritdoc />
    public override string ToString() => Name;
}
