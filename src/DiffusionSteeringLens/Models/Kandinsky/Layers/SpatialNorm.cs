using DiffusionSteeringLens.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Layers;

/// <summary>
/// MoVQ's spatially conditioned normalisation: GroupNorm(f)·conv_y(zq↑) + conv_b(zq↑), where zq↑ is the quantised
/// latent resized to f's height and width with nearest-neighbour interpolation.
/// </summary>
/// <remarks>
/// The reference hard-codes 32 groups and eps 1e-6 here, independent of the model's <c>norm_num_groups</c>;
/// the tiny test MoVQ (8 groups elsewhere) depends on that.
/// </remarks>
internal sealed class SpatialNorm : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Groups of the inner GroupNorm (fixed by the reference implementation).</summary>
    public const int Groups = 32;

    /// <summary>Epsilon of the inner GroupNorm (fixed by the reference implementation).</summary>
    public const double Eps = 1e-6;

    // Field names are the checkpoint's key segments (TorchSharp names state-dict entries after fields).
    private readonly GroupNorm norm_layer;
    private readonly Conv2d conv_y;
    private readonly Conv2d conv_b;

    /// <summary>Creates the layer.</summary>
    /// <param name="featureChannels">Channels of the normalised feature map.</param>
    /// <param name="zqChannels">Channels of the conditioning latent.</param>
    /// <param name="device">Device of the parameters (meta builds without storage).</param>
    /// <param name="dtype">Parameter dtype.</param>
    public SpatialNorm(int featureChannels, int zqChannels, Device device, ScalarType dtype) : base(nameof(SpatialNorm))
    {
        norm_layer = KandinskyLayers.GroupNorm(Groups, featureChannels, Eps, device, dtype);
        conv_y = KandinskyLayers.Conv2d(zqChannels, featureChannels, 1, device, dtype);
        conv_b = KandinskyLayers.Conv2d(zqChannels, featureChannels, 1, device, dtype);
        RegisterComponents();
    }

    /// <summary>Normalises <paramref name="features"/> [B,C,H,W] conditioned on <paramref name="zq"/> [B,Cz,h,w].</summary>
    public override Tensor forward(Tensor features, Tensor zq)
    {
        using var scope = NewDisposeScope();
        var size = new[] { features.shape[2], features.shape[3] };
        var resized = nn.functional.interpolate(zq, size: size, mode: InterpolationMode.Nearest);
        var result = norm_layer.call(features);
        // In place, releasing each conditioning map right after use (same arithmetic as f·y + b).
        using (var scale = CpuConv2d.Forward(conv_y, resized)) result.mul_(scale);
        using (var shift = CpuConv2d.Forward(conv_b, resized)) result.add_(shift);
        return result.MoveToOuterDisposeScope();
    }
}
