using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>Settings shared by every <see cref="ResnetBlock2D"/> of a block (the reference passes them down unchanged).</summary>
/// <param name="TembChannels">Width of the time embedding.</param>
/// <param name="Groups">GroupNorm groups.</param>
/// <param name="Eps">GroupNorm epsilon.</param>
/// <param name="ScaleShift"><c>scale_shift</c> time conditioning instead of <c>default</c>.</param>
/// <param name="SkipTimeAct">No SiLU on the time embedding before <c>time_emb_proj</c>.</param>
/// <param name="OutputScaleFactor">Divisor of the residual sum.</param>
/// <param name="Device">Device of the weights.</param>
/// <param name="DType">Dtype of the weights.</param>
internal sealed record ResnetBlockSettings(int TembChannels, int Groups, double Eps, bool ScaleShift, bool SkipTimeAct,
    double OutputScaleFactor, Device Device, ScalarType DType)
{
    /// <summary>Builds one resnet with these settings.</summary>
    public ResnetBlock2D Create(int inChannels, int outChannels, ResnetResample resample = ResnetResample.None) =>
        new(inChannels, outChannels, TembChannels, Groups, Eps, ScaleShift, SkipTimeAct, OutputScaleFactor, resample, Device, DType);

    /// <summary>The same settings with another output divisor (the mid block has its own).</summary>
    public ResnetBlockSettings WithOutputScaleFactor(double factor) => this with { OutputScaleFactor = factor };
}
