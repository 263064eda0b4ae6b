using System.Globalization;
using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>σ(o) = α·o. α = 1 leaves the model unchanged (the clean picture).</summary>
/// <param name="Alpha">Scale factor.</param>
public sealed record ScaleSteering(double Alpha) : SteeringFunction
{
    /// <inheritdoc />
    public override torch.Tensor Apply(torch.Tensor output, SteeringReference reference, SubmoduleTarget target) => output * Alpha;
    /// <inheritdoc />
    public override bool IsLinear => true;
    /// <inheritdoc />
    public override string ToString() => $"scale:{Alpha.ToString(CultureInfo.InvariantCulture)}";
}
