using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>
/// Down block of (resnet, added-KV attention) pairs (diffusers <c>SimpleCrossAttnDownBlock2D</c>), then an optional
/// <c>downsamplers.0</c> resnet that average-pools inside itself.
/// </summary>
internal sealed class SimpleCrossAttnDownBlock2D : UNetDownBlock
{
    private readonly ModuleList<AddedKVAttention> attentions;
    private readonly ModuleList<ResnetBlock2D> resnets;
    private readonly ModuleList<ResnetBlock2D>? downsamplers;
    private readonly UNetLevelHooks hooks;
    private readonly int _outChannels;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="numLayers">Number of (resnet, attention) pairs.</param>
    /// <param name="addDownsample">End with a down-sampling resnet (all but the last level).</param>
    /// <param name="attentionHeadDim">Channels per attention head.</param>
    /// <param name="crossAttentionDim">Width of the context tokens.</param>
    /// <param name="onlyCrossAttention">Attention uses the context keys/values only.</param>
    /// <param name="resnet">Resnet settings (its groups, device and dtype also apply to the attentions).</param>
    /// <param name="path">State-dict path of the block (e.g. <c>down_blocks.1</c>), the prefix of its hook names.</param>
    /// <param name="runtime">The model's hook runtime.</param>
    public SimpleCrossAttnDownBlock2D(int inChannels, int outChannels, int numLayers, bool addDownsample, int attentionHeadDim,
        int crossAttentionDim, bool onlyCrossAttention, ResnetBlockSettings resnet,
        string path, HookRuntime runtime)
        : base(nameof(SimpleCrossAttnDownBlock2D))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, numLayers)
            .Select(i => resnet.Create(i == 0 ? inChannels : outChannels, outChannels)).ToArray());
        attentions = new ModuleList<AddedKVAttention>(Enumerable.Range(0, numLayers)
            .Select(_ => new AddedKVAttention(outChannels, attentionHeadDim, crossAttentionDim, resnet.Groups, onlyCrossAttention, resnet.Device, resnet.DType))
            .ToArray());
        if (addDownsample) downsamplers = new ModuleList<ResnetBlock2D>(resnet.Create(outChannels, outChannels, ResnetResample.Down));
        hooks = UNetLevelHooks.ForLevel(path, numLayers, withAttention: true, addDownsample ? "downsamplers" : null, runtime);
        _outChannels = outChannels;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override UNetLevelHooks Hooks => hooks;

    /// <inheritdoc />
    public override int OutChannels => _outChannels;

    /// <inheritdoc />
    public override int NumSkips => resnets.Count + (downsamplers is null ? 0 : 1);

    /// <inheritdoc />
    public override Tensor Forward(Tensor hiddenStates, Tensor temb, Tensor context, IList<Tensor> skips) =>
        RunLevel(hiddenStates, temb, context, skips, hooks, resnets, attentions, downsamplers);
}
