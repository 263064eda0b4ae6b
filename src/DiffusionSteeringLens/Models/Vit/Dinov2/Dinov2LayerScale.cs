using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.Dinov2;

/// <summary>HF <c>Dinov2LayerScale</c>: a learned per-channel factor <c>lambda1</c> [D] on a block's output.</summary>
internal sealed class Dinov2LayerScale : nn.Module<Tensor, Tensor>
{
    private readonly Parameter lambda1;

    public Dinov2LayerScale(int hidden, double initial, Device device, ScalarType dtype) : base(nameof(Dinov2LayerScale))
    {
        lambda1 = nn.Parameter(torch.full(hidden, initial, dtype: dtype, device: device));
        RegisterComponents();
    }

    /// <summary>λ [D]. The live parameter.</summary>
    public Tensor Lambda => lambda1;

    public override Tensor forward(Tensor x) => x * lambda1;
}
