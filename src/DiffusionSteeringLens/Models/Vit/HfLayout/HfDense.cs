using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.HfLayout;

/// <summary>
/// A module holding one Linear named <c>dense</c>: HF's <c>ViTSelfOutput</c>, <c>ViTIntermediate</c> and <c>ViTOutput</c>
/// (the owner applies the activation or residual), so checkpoint keys read <c>….output.dense.weight</c>.
/// </summary>
internal sealed class HfDense : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;

    public HfDense(int input, int output, Device device, ScalarType dtype) : base(nameof(HfDense))
    {
        dense = nn.Linear(input, output, hasBias: true, device: device, dtype: dtype);
        RegisterComponents();
    }

    public Linear Dense => dense;

    public override Tensor forward(Tensor x) => dense.call(x);
}
