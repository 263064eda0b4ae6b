using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.MoVq;

/// <summary>
/// The MoVQ decoder's resnet block: both norms are <see cref="SpatialNorm"/>s conditioned on the quantised latent.
/// SpatialNorm → SiLU → conv 3×3 → SpatialNorm → SiLU → conv 3×3, plus a 1×1 <c>conv_shortcut</c> when the channel
/// count changes (output scale factor 1, dropout inactive at inference).
/// </summary>
internal sealed class ResnetBlockCondNorm2D : nn.Module<Tensor, Tensor?, Tensor>
{
    // Field names are the checkpoint's key segments (TorchSharp names state-dict entries after fields).
    private readonly SpatialNorm norm1;
    private readonly Conv2d conv1;
    private readonly SpatialNorm norm2;
    private readonly Conv2d conv2;
    private readonly Conv2d? conv_shortcut;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="zqChannels">Channels of the conditioning latent.</param>
    /// <param name="device">Parameter device.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public ResnetBlockCondNorm2D(int inChannels, int outChannels, int zqChannels, Device device, ScalarType dtype) : base(nameof(ResnetBlockCondNorm2D))
    {
        norm1 = new SpatialNorm(inChannels, zqChannels, device, dtype);
        conv1 = LayerFactory.Conv(inChannels, outChannels, 3, device, dtype, padding: 1);
        norm2 = new SpatialNorm(outChannels, zqChannels, device, dtype);
        conv2 = LayerFactory.Conv(outChannels, outChannels, 3, device, dtype, padding: 1);
        if (inChannels != outChannels) conv_shortcut = LayerFactory.Conv(inChannels, outChannels, 1, device, dtype);
        RegisterComponents();
    }

    /// <summary>Runs the block on <paramref name="input"/> [B,C,H,W] conditioned on <paramref name="zq"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="zq"/> is null.</exception>
    public override Tensor forward(Tensor input, Tensor? zq)
    {
        ArgumentNullException.ThrowIfNull(zq);
        using var scope = NewDisposeScope();
        var h = norm1.call(input, zq);
        nn.functional.silu(h, inplace: true);
        h = TensorChain.Advance(h, conv1.call(h), input);
        h = TensorChain.Advance(h, norm2.call(h, zq), input);
        nn.functional.silu(h, inplace: true);
        h = TensorChain.Advance(h, conv2.call(h), input);
        var shortcut = conv_shortcut is null ? input : conv_shortcut.call(input);
        return (shortcut + h).MoveToOuterDisposeScope();
    }
}
