using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.HfLayout;

/// <summary>
/// HF <c>ViTPatchEmbeddings</c> / <c>Dinov2PatchEmbeddings</c>: a strided conv with bias named <c>projection</c>;
/// pixels [B, C, H, W] → patch tokens [B, N, D], row-major over the grid.
/// </summary>
internal sealed class HfPatchEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d projection;

    public HfPatchEmbeddings(int channels, int hidden, int patch, Device device, ScalarType dtype) : base(nameof(HfPatchEmbeddings))
    {
        projection = nn.Conv2d(channels, hidden, patch, stride: patch, bias: true, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor pixelValues) => projection.call(pixelValues).flatten(2).transpose(1, 2);
}
