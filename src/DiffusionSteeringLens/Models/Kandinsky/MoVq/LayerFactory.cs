using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.MoVq;

/// <summary>
/// Builds the primitive layers of the MoVQ tree on a chosen device and dtype, so the full-size model can be built on
/// the meta device without allocating anything.
/// </summary>
internal static class LayerFactory
{
    /// <summary>A 2-D convolution with bias, square kernel, stride and padding.</summary>
    public static Conv2d Conv(long inChannels, long outChannels, long kernel, Device device, ScalarType dtype, long stride = 1, long padding = 0) =>
        nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: padding, bias: true, device: device, dtype: dtype);

    /// <summary>A linear layer with bias.</summary>
    public static Linear Linear(long inFeatures, long outFeatures, Device device, ScalarType dtype) =>
        nn.Linear(inFeatures, outFeatures, hasBias: true, device: device, dtype: dtype);

    /// <summary>
    /// An affine GroupNorm. TorchSharp leaves its weight and bias uninitialised, so they are set to the PyTorch
    /// defaults (ones, zeros) unless the module lives on the meta device, where there is no storage to write.
    /// </summary>
    public static GroupNorm GroupNorm(long groups, long channels, double eps, Device device, ScalarType dtype)
    {
        var norm = nn.GroupNorm(groups, channels, eps, affine: true, device: device, dtype: dtype);
        if (device.type != DeviceType.META)
        {
            using var _ = no_grad();
            norm.weight!.fill_(1.0);
            norm.bias!.fill_(0.0);
        }
        return norm;
    }
}
