using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>
/// Turns one image embedding into cross-attention context tokens (diffusers <c>ImageProjection</c>, the UNet's
/// <c>encoder_hid_proj</c> for <c>encoder_hid_dim_type = "image_proj"</c>): <c>image_embeds</c> Linear →
/// reshape [B, tokens, crossAttentionDim] → <c>norm</c> LayerNorm.
/// </summary>
internal sealed class ImageProjection : nn.Module<Tensor, Tensor>
{
    private readonly Linear image_embeds;
    private readonly LayerNorm norm;
    private readonly int _numTokens;

    /// <summary>Creates the projection.</summary>
    /// <param name="imageEmbedDim">Width of the image embedding.</param>
    /// <param name="crossAttentionDim">Width of each context token.</param>
    /// <param name="numTokens">Number of context tokens (32 in the reference, where it is not configurable).</param>
    /// <param name="device">Device of the weights.</param>
    /// <param name="dtype">Dtype of the weights.</param>
    public ImageProjection(int imageEmbedDim, int crossAttentionDim, int numTokens, Device device, ScalarType dtype) : base(nameof(ImageProjection))
    {
        _numTokens = numTokens;
        image_embeds = KandinskyLayers.Linear(imageEmbedDim, (long)numTokens * crossAttentionDim, device, dtype);
        norm = KandinskyLayers.LayerNorm(crossAttentionDim, 1e-5, device, dtype);
        RegisterComponents();
    }

    /// <summary>[B, imageEmbedDim] → [B, tokens, crossAttentionDim].</summary>
    public override Tensor forward(Tensor imageEmbeds)
    {
        using var scope = torch.NewDisposeScope();
        var tokens = image_embeds.call(imageEmbeds).reshape(imageEmbeds.shape[0], _numTokens, -1);
        return norm.call(tokens).MoveToOuterDisposeScope();
    }
}
