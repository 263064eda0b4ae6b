using System.Globalization;
using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// σ in the Diffusion Steering Lens: maps a submodule's clean output to its steered output. Works on batches:
/// <c>output</c> is [..., D] and the reference holds the clean-run scales at the same rows, shaped [..., 1].
/// </summary>
/// <remarks>
/// No steering strength is claimed as "the paper's default": the paper's value could not be read here. The library's own
/// default, <see cref="Default"/>, is <see cref="RelativeSteering"/> with λ = 1: it adds each output's direction with a
/// strength equal to the clean final residual norm, so heads whose raw output norms differ by orders of magnitude are
/// compared by direction, not by size. Calibrate per model (e.g. by how well the DSL ranking matches ablation importance).
/// </remarks>
public abstract record SteeringFunction
{
    /// <summary>Returns σ(o) with the same shape as <paramref name="output"/>.</summary>
    /// <param name="output">Clean outputs [..., D].</param>
    /// <param name="reference">Clean-run scales at the same rows (‖r_final‖, and ν when <see cref="UsesMeanHeadWriteNorm"/>).</param>
    /// <param name="target">The submodule being steered (for custom functions).</param>
    public abstract torch.Tensor Apply(torch.Tensor output, SteeringReference reference, SubmoduleTarget target);

    /// <summary>True when σ is linear in o (then steering z or the result gives the same answer).</summary>
    public virtual bool IsLinear => false;

    /// <summary>True when σ needs <see cref="SteeringReference.MeanHeadWriteNorm"/> (costs the lens a cache of every head's CLS write).</summary>
    public virtual bool UsesMeanHeadWriteNorm => false;

    /// <summary>Our default (documented as ours, not the paper's): Relative(λ = 1).</summary>
    public static SteeringFunction Default { get; } = new RelativeSteering(1);

    /// <summary>Parses <c>scale:&lt;α&gt;</c>, <c>relative:&lt;λ&gt;</c> or <c>global:&lt;α&gt;</c>.</summary>
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
                case "global": return new GlobalScaleSteering(v);
            }
        }
        throw new FormatException($"'{text}' is not a steering function; use scale:<alpha> (e.g. scale:8), relative:<lambda> (e.g. relative:1.5) or global:<alpha> (e.g. global:1).");
    }
}
