using DiffusionSteeringLens.Hooks;
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
    private readonly UNetLevelHooks hooks;

    /// <summary>Creates the block.</summary>
    /// <param name="channels">Input and output channels.</param>
    /// <param name="numLayers">Number of (attention, resnet) pairs after the first resnet (1 in the reference UNet).</param>
    /// <param name="attentionHeadDim">Channels per attention head.</param>
    /// <param name="crossAttentionDim">Width of the context tokens.</param>
    /// <param name="onlyCrossAttention">Attention uses the context keys/values only.</param>
    /// <param name="resnet">Resnet settings (its groups, device and dtype also apply to the attentions).</param>
    /// <param name="runtime">The model's hook runtime.</param>
    public UNetMidBlock2DSimpleCrossAttn(int channels, int numLayers, int attentionHeadDim, int crossAttentionDim, bool onlyCrossAttention,
        ResnetBlockSettings resnet, HookRuntime runtime)
        : base(nameof(UNetMidBlock2DSimpleCrossAttn))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, numLayers + 1).Select(_ => resnet.Create(channels, channels)).ToArray());
        attentions = new ModuleList<AddedKVAttention>(Enumerable.Range(0, numLayers)
            .Select(_ => new AddedKVAttention(channels, attentionHeadDim, crossAttentionDim, resnet.Groups, onlyCrossAttention, resnet.Device, resnet.DType))
            .ToArray());
        hooks = UNetLevelHooks.ForMidBlock(numLayers, runtime);
        RegisterComponents();
    }

    /// <summary>The hook points inside the block and on its output.</summary>
    public UNetLevelHooks Hooks => hooks;

    /// <summary>Runs the block.</summary>
    /// <param name="hiddenStates">[B, C, H, W].</param>
    /// <param name="temb">Time embedding [B, temb].</param>
    /// <param name="context">Cross-attention context [B, T, D].</param>
    /// <returns>[B, C, H, W].</returns>
    public Tensor Forward(Tensor hiddenStates, Tensor temb, Tensor context)
    {
        using var scope = torch.NewDisposeScope();
        var h = hooks.Resnet(0).call(resnets[0].call(hiddenStates, temb));
        for (int j = 0; j < attentions.Count; j++)
        {
            h = hooks.Attention(j).call(attentions[j].call(h, context));
            h = hooks.Resnet(j + 1).call(resnets[j + 1].call(h, temb));
        }
        return hooks.Output.call(h).MoveToOuterDisposeScope();
    }
}
