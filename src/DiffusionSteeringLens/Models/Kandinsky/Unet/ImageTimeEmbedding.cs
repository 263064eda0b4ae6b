using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>
/// The image embedding's contribution to the time embedding (diffusers <c>ImageTimeEmbedding</c>, the UNet's
/// <c>add_embedding</c> for <c>addition_embed_type = "image"</c>): <c>image_proj</c> → <c>image_norm</c>.
/// </summary>
internal sealed class ImageTimeEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Linear image_proj;
    private readonly LayerNorm image_norm;

    /// <summary>Creates the projection.</summary>
    /// <param name="imageEmbedDim">Width of the image embedding.</param>
    /// <param name="timeEmbedDim">Width of the time embedding.</param>
    /// <param name="device">Device of the weights.</param>
    /// <param name="dtype">Dtype of the weights.</param>
    public ImageTimeEmbedding(int imageEmbedDim, int timeEmbedDim, Device device, ScalarType dtype) : base(nameof(ImageTimeEmbedding))
    {
        image_proj = KandinskyLayers.Linear(imageEmbedDim, timeEmbedDim, device, dtype);
        // LayerNorm with PyTorch's default eps (1e-5); the reference does not take norm_eps here.
        image_norm = KandinskyLayers.LayerNorm(timeEmbedDim, 1e-5, device, dtype);
        RegisterComponents();
    }

    /// <summary>[B, imageEmbedDim] → [B, timeEmbedDim].</summary>
    public override Tensor forward(Tensor imageEmbeds)
    {
        using var projected = image_proj.call(imageEmbeds);
        return image_norm.call(projected);
    }
}
