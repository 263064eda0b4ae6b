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

    /// <summary>
    /// The forward every down block shares: each resnet (then its attention, when the block has them), then the optional
    /// down-sampling resnet; every stage's output is appended to <paramref name="skips"/>. The modules stay fields of the
    /// concrete blocks, because TorchSharp names state-dict entries after the declaring class's fields.
    /// </summary>
    protected static Tensor RunLevel(Tensor hiddenStates, Tensor temb, Tensor context, IList<Tensor> skips, Action<string, Tensor>? tap,
        string path, ModuleList<ResnetBlock2D> resnets, ModuleList<AddedKVAttention>? attentions, ModuleList<ResnetBlock2D>? downsamplers)
    {
        using var scope = torch.NewDisposeScope();
        var outputs = new List<Tensor>();
        var h = hiddenStates;
        for (int j = 0; j < resnets.Count; j++)
        {
            h = resnets[j].call(h, temb);
            tap?.Invoke($"{path}.resnets.{j}", h);
            if (attentions is not null)
            {
                h = attentions[j].call(h, context);
                tap?.Invoke($"{path}.attentions.{j}", h);
            }
            outputs.Add(h);
        }
        if (downsamplers is not null)
        {
            h = downsamplers[0].call(h, temb);
            tap?.Invoke($"{path}.downsamplers.0", h);
            outputs.Add(h);
        }
        scope.MoveToOuter(outputs);
        foreach (var o in outputs) skips.Add(o);
        return h;
    }
}
