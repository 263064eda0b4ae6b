using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>A down block of <see cref="UNet2DConditionModel"/>: resnets (and attentions), then an optional down-sampler.</summary>
public abstract class UNetDownBlock : nn.Module
{
    /// <summary>Creates the block.</summary>
    protected UNetDownBlock(string name) : base(name) { }

    /// <summary>Output channels.</summary>
    public abstract int OutChannels { get; }

    /// <summary>Skip tensors this block appends (one per resnet, plus one for the down-sampler).</summary>
    public abstract int NumSkips { get; }

    /// <summary>Runs the block.</summary>
    /// <param name="hiddenStates">[B, in, H, W].</param>
    /// <param name="temb">Time embedding [B, temb].</param>
    /// <param name="context">Cross-attention context [B, T, D] (ignored by blocks without attention).</param>
    /// <param name="skips">Receives the skip tensors, in order.</param>
    /// <param name="tap">Optional observer of intermediate outputs (see <see cref="UNet2DConditionModel.Forward"/>).</param>
    /// <param name="path">State-dict path of this block (e.g. <c>down_blocks.1</c>), the prefix of tap names.</param>
    /// <returns>The block output [B, out, H', W'].</returns>
    public abstract Tensor Forward(Tensor hiddenStates, Tensor temb, Tensor context, IList<Tensor> skips, Action<string, Tensor>? tap, string path);
}
