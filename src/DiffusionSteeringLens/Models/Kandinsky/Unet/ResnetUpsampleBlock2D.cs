using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>
/// Up block without attention (diffusers <c>ResnetUpsampleBlock2D</c>): each resnet takes the previous output
/// concatenated with one skip tensor; an optional <c>upsamplers.0</c> resnet up-samples (nearest ×2) inside itself.
/// </summary>
internal sealed class ResnetUpsampleBlock2D : UNetUpBlock
{
    private readonly ModuleList<ResnetBlock2D> resnets;
    private readonly ModuleList<ResnetBlock2D>? upsamplers;
    private readonly UNetLevelHooks hooks;
    private readonly int _outChannels;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Channels of the skip consumed by the last resnet (the level below's output).</param>
    /// <param name="prevOutputChannels">Channels of the incoming hidden states.</param>
    /// <param name="outChannels">Output channels (also the channels of the other skips).</param>
    /// <param name="numLayers">Number of resnets.</param>
    /// <param name="addUpsample">End with an up-sampling resnet (all but the last level).</param>
    /// <param name="resnet">Resnet settings.</param>
    /// <param name="path">State-dict path of the block (e.g. <c>up_blocks.1</c>), the prefix of its hook names.</param>
    /// <param name="runtime">The model's hook runtime.</param>
    public ResnetUpsampleBlock2D(int inChannels, int prevOutputChannels, int outChannels, int numLayers, bool addUpsample, ResnetBlockSettings resnet,
        string path, HookRuntime runtime)
        : base(nameof(ResnetUpsampleBlock2D))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, numLayers)
            .Select(i => resnet.Create(UpBlockChannels.ResnetIn(i, numLayers, inChannels, prevOutputChannels, outChannels), outChannels))
            .ToArray());
        if (addUpsample) upsamplers = new ModuleList<ResnetBlock2D>(resnet.Create(outChannels, outChannels, ResnetResample.Up));
        hooks = UNetLevelHooks.ForLevel(path, numLayers, withAttention: false, addUpsample ? "upsamplers" : null, runtime);
        _outChannels = outChannels;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override UNetLevelHooks Hooks => hooks;

    /// <inheritdoc />
    public override int OutChannels => _outChannels;

    /// <inheritdoc />
    public override int NumSkips => resnets.Count;

    /// <inheritdoc />
    public override Tensor Forward(Tensor hiddenStates, Tensor temb, Tensor context, IList<Tensor> skips) =>
        RunLevel(hiddenStates, temb, context, skips, hooks, resnets, null, upsamplers);
}
