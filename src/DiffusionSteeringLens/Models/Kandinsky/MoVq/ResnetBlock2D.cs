using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.MoVq;

/// <summary>
/// The VAE resnet block without time embedding: GroupNorm → SiLU → conv 3×3 → GroupNorm → SiLU → conv 3×3, plus a
/// 1×1 <c>conv_shortcut</c> when the channel count changes. Used by the encoder and by a <c>group</c>-norm decoder.
/// </summary>
internal sealed class ResnetBlock2D : nn.Module<Tensor, Tensor?, Tensor>
{
    // Field names are the checkpoint's key segments (TorchSharp names state-dict entries after fields).
    private readonly GroupNorm norm1;
    private readonly Conv2d conv1;
    private readonly GroupNorm norm2;
    private readonly Conv2d conv2;
    private readonly Conv2d? conv_shortcut;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="eps">GroupNorm epsilon (1e-6 throughout the VAE).</param>
    /// <param name="device">Parameter device.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public ResnetBlock2D(int inChannels, int outChannels, int groups, double eps, Device device, ScalarType dtype) : base(nameof(ResnetBlock2D))
    {
        norm1 = LayerFactory.GroupNorm(groups, inChannels, eps, device, dtype);
        conv1 = LayerFactory.Conv(inChannels, outChannels, 3, device, dtype, padding: 1);
        norm2 = LayerFactory.GroupNorm(groups, outChannels, eps, device, dtype);
        conv2 = LayerFactory.Conv(outChannels, outChannels, 3, device, dtype, padding: 1);
        if (inChannels != outChannels) conv_shortcut = LayerFactory.Conv(inChannels, outChannels, 1, device, dtype);
        RegisterComponents();
    }

    /// <summary>Runs the block; <paramref name="zq"/> is ignored (this block is not conditioned).</summary>
    public override Tensor forward(Tensor input, Tensor? zq)
    {
        using var scope = NewDisposeScope();
        var h = norm1.call(input);
        nn.functional.silu(h, inplace: true);
        h = TensorChain.Advance(h, conv1.call(h), input);
        h = TensorChain.Advance(h, norm2.call(h), input);
        nn.functional.silu(h, inplace: true);
        h = TensorChain.Advance(h, conv2.call(h), input);
        var shortcut = conv_shortcut is null ? input : conv_shortcut.call(input);
        return (shortcut + h).MoveToOuterDisposeScope();
    }
}
