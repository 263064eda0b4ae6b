using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>A down block of <see cref="UNet2DConditionModel"/>: resnets (and attentions), then an optional down-sampler.</summary>
internal abstract class UNetDownBlock : nn.Module
{
    /// <summary>Creates the block.</summary>
    protected UNetDownBlock(string name) : base(name) { }

    /// <summary>The hook points inside the block and on its output.</summary>
    public abstract UNetLevelHooks Hooks { get; }

    /// <summary>Output channels.</summary>
    public abstract int OutChannels { get; }

    /// <summary>Skip tensors this block appends (one per resnet, plus one for the down-sampler).</summary>
    public abstract int NumSkips { get; }

    /// <summary>Runs the block.</summary>
    /// <param name="hiddenStates">[B, in, H, W].</param>
    /// <param name="temb">Time embedding [B, temb].</param>
    /// <param name="context">Cross-attention context [B, T, D] (ignored by blocks without attention).</param>
    /// <param name="skips">Receives the skip tensors, in order.</param>
    /// <returns>The block output [B, out, H', W'].</returns>
    public abstract Tensor Forward(Tensor hiddenStates, Tensor temb, Tensor context, IList<Tensor> skips);

    /// <summary>
    /// The forward every down block shares: each resnet (then its attention, when the block has them), then the optional
    /// down-sampling resnet; every stage's output is appended to <paramref name="skips"/>, each passing its hook point first. The modules stay fields of the
    /// concrete blocks, because TorchSharp names state-dict entries after the declaring class's fields.
    /// </summary>
    protected static Tensor RunLevel(Tensor hiddenStates, Tensor temb, Tensor context, IList<Tensor> skips,
        UNetLevelHooks hooks, ModuleList<ResnetBlock2D> resnets, ModuleList<AddedKVAttention>? attentions, ModuleList<ResnetBlock2D>? downsamplers)
    {
        using var scope = torch.NewDisposeScope();
        var outputs = new List<Tensor>();
        var h = hiddenStates;
        for (int j = 0; j < resnets.Count; j++)
        {
            h = resnets[j].call(h, temb);
            h = hooks.Resnet(j).call(h);
            if (attentions is not null)
            {
                h = attentions[j].call(h, context);
                h = hooks.Attention(j).call(h);
            }
            outputs.Add(h);
        }
        if (downsamplers is not null)
        {
            h = downsamplers[0].call(h, temb);
            h = hooks.Sampler.call(h);
            outputs.Add(h);
        }
        // The block's output hook sees the returned tensor only: the skips keep the values the resnets produced.
        var result = hooks.Output.call(h);
        scope.MoveToOuter(outputs);
        if (!ReferenceEquals(result, h)) result.MoveToOuterDisposeScope();
        foreach (var o in outputs) skips.Add(o);
        return result;
    }
}
