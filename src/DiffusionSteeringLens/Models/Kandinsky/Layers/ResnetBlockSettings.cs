using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Layers;

/// <summary>
/// Settings shared by every <see cref="ResnetBlock2D"/> of a model (the reference passes them down unchanged). They carry
/// the only differences between the UNet's and the MoVQ's resnets: a time embedding or none, GroupNorm or a spatial
/// norm conditioned on the quantised latent.
/// </summary>
/// <param name="TembChannels">Width of the time embedding fed to <c>time_emb_proj</c>, or null for a block without one (VAE).</param>
/// <param name="Groups">GroupNorm groups (plain norms only; the spatial norm fixes its own).</param>
/// <param name="Eps">GroupNorm epsilon (plain norms only).</param>
/// <param name="SpatialNormChannels">Channels of the latent that conditions <see cref="SpatialNorm"/>s, or null for GroupNorms.</param>
/// <param name="ScaleShift"><c>scale_shift</c> time conditioning instead of <c>default</c>.</param>
/// <param name="SkipTimeAct">No SiLU on the time embedding before <c>time_emb_proj</c>.</param>
/// <param name="OutputScaleFactor">Divisor of the residual sum.</param>
/// <param name="Device">Device of the weights.</param>
/// <param name="DType">Dtype of the weights.</param>
internal sealed record ResnetBlockSettings(int? TembChannels, int Groups, double Eps, int? SpatialNormChannels, bool ScaleShift,
    bool SkipTimeAct, double OutputScaleFactor, Device Device, ScalarType DType)
{
    /// <summary>GroupNorm epsilon used throughout the VAE.</summary>
    public const double VaeEps = 1e-6;

    /// <summary>The UNet's time-conditioned, GroupNorm resnets.</summary>
    public static ResnetBlockSettings TimeConditioned(int tembChannels, int groups, double eps, bool scaleShift, bool skipTimeAct,
        double outputScaleFactor, Device device, ScalarType dtype) =>
        new(tembChannels, groups, eps, null, scaleShift, skipTimeAct, outputScaleFactor, device, dtype);

    /// <summary>
    /// The VAE's resnets without time embedding: GroupNorm (eps 1e-6) when <paramref name="spatialNormChannels"/> is
    /// null (encoder, plain decoder), spatial norms conditioned on a latent of that many channels otherwise (MoVQ decoder).
    /// </summary>
    public static ResnetBlockSettings Vae(int groups, int? spatialNormChannels, Device device, ScalarType dtype) =>
        new(null, groups, VaeEps, spatialNormChannels, false, false, 1.0, device, dtype);

    /// <summary>Builds one resnet with these settings.</summary>
    public ResnetBlock2D Create(int inChannels, int outChannels, ResnetResample resample = ResnetResample.None) =>
        new(inChannels, outChannels, this, resample);

    /// <summary>The same settings with another output divisor (the UNet's mid block has its own).</summary>
    public ResnetBlockSettings WithOutputScaleFactor(double factor) => this with { OutputScaleFactor = factor };
}
