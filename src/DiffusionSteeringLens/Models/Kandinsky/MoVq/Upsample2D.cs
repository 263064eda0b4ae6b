using DiffusionSteeringLens.Runtime;
using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.MoVq;

/// <summary>Decoder up-sampling: nearest-neighbour ×2, then a 3×3 convolution with padding 1.</summary>
internal sealed class Upsample2D : nn.Module<Tensor, Tensor>
{
    // Field name is the checkpoint's key segment.
    private readonly Conv2d conv;

    /// <summary>Creates the layer.</summary>
    /// <param name="channels">Input and output channels.</param>
    /// <param name="device">Parameter device.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public Upsample2D(int channels, Device device, ScalarType dtype) : base(nameof(Upsample2D))
    {
        conv = KandinskyLayers.Conv2d(channels, channels, 3, device, dtype);
        RegisterComponents();
    }

    /// <summary>Doubles height and width.</summary>
    public override Tensor forward(Tensor input)
    {
        using var up = nn.functional.interpolate(input, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest);
        return CpuConv2d.Forward(conv, up);
    }
}
