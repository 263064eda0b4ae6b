using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>
/// Mid block (diffusers <c>UNetMidBlock2DSimpleCrossAttn</c>): <c>resnets.0</c>, then (<c>attentions.i</c>,
/// <c>resnets.i+1</c>) pairs; channels are kept.
/// </summary>
internal sealed class UNetMidBlock2DSimpleCrossAttn : nn.Module
{
    private readonly ModuleList<AddedKVAttention> attentions;
    private readonly ModuleList<ResnetBlock2D> resnets;

    /// <summary>Creates the block.</summary>
    /// <param name="channels">Input and output channels.</param>
    /// <param name="numLayers">Number of (attention, resnet) pairs after the first resnet (1 in the reference UNet).</param>
    /// <param name="attentionHeadDim">Channels per attention head.</param>
    /// <param name="crossAttentionDim">Width of the context tokens.</param>
    /// <param name="onlyCrossAttention">Attention uses the context keys/values only.</param>
    /// <param name="resnet">Resnet settings (its groups, device and dtype also apply to the attentions).</param>
    public UNetMidBlock2DSimpleCrossAttn(int channels, int numLayers, int attentionHeadDim, int crossAttentionDim, bool onlyCrossAttention,
        ResnetBlockSettings resnet)
        : base(nameof(UNetMidBlock2DSimpleCrossAttn))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, numLayers + 1).Select(_ => resnet.Create(channels, channels)).ToArray());
        attentions = new ModuleList<AddedKVAttention>(Enumerable.Range(0, numLayers)
            .Select(_ => new AddedKVAttention(channels, attentionHeadDim, crossAttentionDim, resnet.Groups, onlyCrossAttention, resnet.Device, resnet.DType))
            .ToArray());
        RegisterComponents();
    }

    /// <summary>Runs the block.</summary>
    /// <param name="hiddenStates">[B, C, H, W].</param>
    /// <param name="temb">Time embedding [B, temb].</param>
    /// <param name="context">Cross-attention context [B, T, D].</param>
    /// <param name="tap">Optional observer of intermediate outputs (see <see cref="UNet2DConditionModel.Forward"/>).</param>
    /// <param name="path">State-dict path of this block (<c>mid_block</c>), the prefix of tap names.</param>
    /// <returns>[B, C, H, W].</returns>
    public Tensor Forward(Tensor hiddenStates, Tensor temb, Tensor context, Action<string, Tensor>? tap, string path)
    {
        using var scope = torch.NewDisposeScope();
        var h = resnets[0].call(hiddenStates, temb);
        tap?.Invoke($"{path}.resnets.0", h);
        for (int j = 0; j < attentions.Count; j++)
        {
            h = attentions[j].call(h, context);
            tap?.Invoke($"{path}.attentions.{j}", h);
            h = resnets[j + 1].call(h, temb);
            tap?.Invoke($"{path}.resnets.{j + 1}", h);
        }
        return h.MoveToOuterDisposeScope();
    }
}
