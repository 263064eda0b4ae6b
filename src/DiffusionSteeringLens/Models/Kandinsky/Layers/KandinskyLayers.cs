using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Layers;

/// <summary>
/// Builds the primitive layers of the UNet and the MoVQ on a given device and dtype. On the meta device nothing is
/// allocated or initialised, so the full-size models can be built to inspect their state-dict keys and shapes.
/// </summary>
internal static class KandinskyLayers
{
    /// <summary>A linear layer with bias.</summary>
    public static Linear Linear(long inFeatures, long outFeatures, Device device, ScalarType dtype) =>
        nn.Linear(inFeatures, outFeatures, hasBias: true, device: device, dtype: dtype);

    /// <summary>
    /// A square convolution with bias; by default stride 1 and "same" padding (k−1)/2 for an odd kernel
    /// (the MoVQ's down-sampler pads asymmetrically itself and passes stride 2, padding 0).
    /// </summary>
    public static Conv2d Conv2d(long inChannels, long outChannels, int kernel, Device device, ScalarType dtype, long stride = 1, long? padding = null) =>
        nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: padding ?? (kernel - 1) / 2, bias: true, device: device, dtype: dtype);

    /// <summary>An affine GroupNorm with weight 1 and bias 0.</summary>
    public static GroupNorm GroupNorm(long groups, long channels, double eps, Device device, ScalarType dtype)
    {
        var norm = nn.GroupNorm(groups, channels, eps, affine: true, device: device, dtype: dtype);
        // TorchSharp leaves GroupNorm's affine parameters uninitialised (PyTorch sets ones/zeros).
        ResetAffine(norm.weight, norm.bias, device);
        return norm;
    }

    /// <summary>An affine LayerNorm over the last dimension with weight 1 and bias 0.</summary>
    public static LayerNorm LayerNorm(long features, double eps, Device device, ScalarType dtype)
    {
        var norm = nn.LayerNorm(features, eps, elementwise_affine: true, bias: true, device: device, dtype: dtype);
        ResetAffine(norm.weight, norm.bias, device);
        return norm;
    }

    // The meta device has no storage to write; its parameters are replaced by checkpoint tensors anyway.
    private static void ResetAffine(Tensor? weight, Tensor? bias, Device device)
    {
        if (device.type == DeviceType.META) return;
        using var _ = torch.no_grad();
        weight?.fill_(1.0);
        bias?.fill_(0.0);
    }
}
