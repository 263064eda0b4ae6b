using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.HfLayout;

/// <summary>HF <c>ViTEncoder</c> / <c>Dinov2Encoder</c>: the blocks in order (checkpoint keys <c>layer.{i}.…</c>), no final norm.</summary>
internal sealed class HfEncoder : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> layer;

    public HfEncoder(IEnumerable<nn.Module<Tensor, Tensor>> layers) : base(nameof(HfEncoder))
    {
        layer = new ModuleList<nn.Module<Tensor, Tensor>>(layers.ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        return LayerStack.Run(layer, x); // a dispose scope per block: intermediates freed block by block
    }
}
