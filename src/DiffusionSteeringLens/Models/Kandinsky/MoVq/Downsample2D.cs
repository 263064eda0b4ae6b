using DiffusionSteeringLens.Runtime;
using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.MoVq;

/// <summary>
/// Encoder down-sampling: pad right and bottom by one, then a stride-2 3×3 convolution without padding (the VAE
/// encoder's asymmetric "padding 0" variant of diffusers' <c>Downsample2D</c>).
/// </summary>
internal sealed class Downsample2D : nn.Module<Tensor, Tensor>
{
    // Field name is the checkpoint's key segment.
    private readonly Conv2d conv;

    /// <summary>Creates the layer.</summary>
    /// <param name="channels">Input and output channels.</param>
    /// <param name="device">Parameter device.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public Downsample2D(int channels, Device device, ScalarType dtype) : base(nameof(Downsample2D))
    {
        conv = KandinskyLayers.Conv2d(channels, channels, 3, device, dtype, stride: 2, padding: 0);
        RegisterComponents();
    }

    /// <summary>Halves height and width (rounding up).</summary>
    public override Tensor forward(Tensor input)
    {
        using var padded = nn.functional.pad(input, new long[] { 0, 1, 0, 1 }, PaddingModes.Constant, 0.0);
        return CpuConv2d.Forward(conv, padded);
    }
}
