using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>
/// An up block of <see cref="UNet2DConditionModel"/>: before each resnet it takes the most recent skip tensor and
/// concatenates it on channels; ends with an optional up-sampler.
/// </summary>
internal abstract class UNetUpBlock : nn.Module
{
    /// <summary>Creates the block.</summary>
    protected UNetUpBlock(string name) : base(name) { }

    /// <summary>The hook points inside the block and on its output.</summary>
    public abstract UNetLevelHooks Hooks { get; }

    /// <summary>Output channels.</summary>
    public abstract int OutChannels { get; }

    /// <summary>Skip tensors this block consumes (one per resnet).</summary>
    public abstract int NumSkips { get; }

    /// <summary>Runs the block.</summary>
    /// <param name="hiddenStates">[B, prev, H, W].</param>
    /// <param name="temb">Time embedding [B, temb].</param>
    /// <param name="context">Cross-attention context [B, T, D] (ignored by blocks without attention).</param>
    /// <param name="skips">Skip tensors; this block removes the last <see cref="NumSkips"/> of them (last first).</param>
    /// <returns>The block output [B, out, H', W'].</returns>
    public abstract Tensor Forward(Tensor hiddenStates, Tensor temb, Tensor context, IList<Tensor> skips);

    /// <summary>Removes and returns the last skip tensor.</summary>
    protected static Tensor PopSkip(IList<Tensor> skips)
    {
        if (skips.Count == 0) throw new InvalidOperationException("an up block ran out of skip tensors (down and up paths do not match).");
        var last = skips[^1];
        skips.RemoveAt(skips.Count - 1);
        return last;
    }

    /// <summary>
    /// The forward every up block shares: for each resnet, concatenate the last skip tensor on channels, run the resnet
    /// (then its attention, when the block has them); finally the optional up-sampling resnet. The modules stay fields of
    /// the concrete blocks, because TorchSharp names state-dict entries after the declaring class's fields.
    /// </summary>
    protected static Tensor RunLevel(Tensor hiddenStates, Tensor temb, Tensor context, IList<Tensor> skips,
        UNetLevelHooks hooks, ModuleList<ResnetBlock2D> resnets, ModuleList<AddedKVAttention>? attentions, ModuleList<ResnetBlock2D>? upsamplers)
    {
        using var scope = torch.NewDisposeScope();
        var h = hiddenStates;
        for (int j = 0; j < resnets.Count; j++)
        {
            h = torch.cat(new[] { h, PopSkip(skips) }, dim: 1);
            h = resnets[j].call(h, temb);
            h = hooks.Resnet(j).call(h);
            if (attentions is not null)
            {
                h = attentions[j].call(h, context);
                h = hooks.Attention(j).call(h);
            }
        }
        if (upsamplers is not null)
        {
            h = upsamplers[0].call(h, temb);
            h = hooks.Sampler.call(h);
        }
        return hooks.Output.call(h).MoveToOuterDisposeScope();
    }
}
