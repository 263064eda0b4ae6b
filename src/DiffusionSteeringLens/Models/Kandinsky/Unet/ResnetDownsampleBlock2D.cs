using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>
/// Down block without attention (diffusers <c>ResnetDownsampleBlock2D</c>): <c>resnets.*</c>, then
/// <c>downsamplers.0</c>, a resnet that average-pools inside itself (no conv down-sampler).
/// </summary>
internal sealed class ResnetDownsampleBlock2D : UNetDownBlock
{
    private readonly ModuleList<ResnetBlock2D> resnets;
    private readonly ModuleList<ResnetBlock2D>? downsamplers;
    private readonly UNetLevelHooks hooks;
    private readonly int _outChannels;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="numLayers">Number of resnets.</param>
    /// <param name="addDownsample">End with a down-sampling resnet (all but the last level).</param>
    /// <param name="resnet">Resnet settings.</param>
    /// <param name="path">State-dict path of the block (e.g. <c>down_blocks.1</c>), the prefix of its hook names.</param>
    /// <param name="runtime">The model's hook runtime.</param>
    public ResnetDownsampleBlock2D(int inChannels, int outChannels, int numLayers, bool addDownsample, ResnetBlockSettings resnet,
        string path, HookRuntime runtime)
        : base(nameof(ResnetDownsampleBlock2D))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, numLayers)
            .Select(i => resnet.Create(i == 0 ? inChannels : outChannels, outChannels)).ToArray());
        if (addDownsample) downsamplers = new ModuleList<ResnetBlock2D>(resnet.Create(outChannels, outChannels, ResnetResample.Down));
        hooks = UNetLevelHooks.ForLevel(path, numLayers, withAttention: false, addDownsample ? "downsamplers" : null, runtime);
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
        RunLevel(hiddenStates, temb, context, skips, hooks, resnets, null, downsamplers);
}
