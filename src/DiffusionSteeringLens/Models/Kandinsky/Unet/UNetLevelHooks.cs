using DiffusionSteeringLens.Hooks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>
/// The hook points of one UNet level (a down, mid or up block): the output of each resnet, attention and resampler in
/// it, and the block's output. Each is named after the module whose output it is, by its state-dict path
/// (<c>down_blocks.1.resnets.0</c>, <c>down_blocks.1.attentions.0</c>, <c>down_blocks.1.downsamplers.0</c>,
/// <c>down_blocks.1</c>), the names diffusers' forward hooks and the golden fixtures use.
/// </summary>
internal sealed class UNetLevelHooks : nn.Module
{
    // Parameter-free: registering them adds no state-dict entries, only disposal with the model.
    private readonly ModuleList<HookPoint> resnets;
    private readonly ModuleList<HookPoint> attentions;
    private readonly ModuleList<HookPoint> samplers;
    private readonly HookPoint output;
    private readonly bool _attentionBeforeResnet;

    private UNetLevelHooks(string path, int resnetCount, int attentionCount, string? samplerName, bool attentionBeforeResnet, HookRuntime runtime)
        : base(nameof(UNetLevelHooks))
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(runtime);
        resnets = new ModuleList<HookPoint>(Enumerable.Range(0, resnetCount).Select(j => new HookPoint($"{path}.resnets.{j}", runtime)).ToArray());
        attentions = new ModuleList<HookPoint>(Enumerable.Range(0, attentionCount).Select(j => new HookPoint($"{path}.attentions.{j}", runtime)).ToArray());
        samplers = samplerName is null
            ? new ModuleList<HookPoint>()
            : new ModuleList<HookPoint>(new HookPoint($"{path}.{samplerName}.0", runtime));
        output = new HookPoint(path, runtime);
        _attentionBeforeResnet = attentionBeforeResnet;
        RegisterComponents();
    }

    /// <summary>The points of a down or up block: (resnet, attention) pairs or resnets alone, then an optional resampler.</summary>
    /// <param name="path">State-dict path of the block, e.g. <c>down_blocks.1</c>.</param>
    /// <param name="resnetCount">Resnets of the block (the resampler not counted).</param>
    /// <param name="withAttention">One attention follows each resnet.</param>
    /// <param name="samplerName"><c>downsamplers</c>, <c>upsamplers</c>, or null when the level does not resample.</param>
    /// <param name="runtime">The model's hook runtime.</param>
    public static UNetLevelHooks ForLevel(string path, int resnetCount, bool withAttention, string? samplerName, HookRuntime runtime) =>
        new(path, resnetCount, withAttention ? resnetCount : 0, samplerName, attentionBeforeResnet: false, runtime);

    /// <summary>The points of the mid block: a resnet, then (attention, resnet) pairs.</summary>
    public static UNetLevelHooks ForMidBlock(int attentionCount, HookRuntime runtime) =>
        new(UNetHookNames.MidBlock, attentionCount + 1, attentionCount, null, attentionBeforeResnet: true, runtime);

    /// <summary>Output of resnet <paramref name="j"/>.</summary>
    public HookPoint Resnet(int j) => resnets[j];

    /// <summary>Output of attention <paramref name="j"/>.</summary>
    public HookPoint Attention(int j) => attentions[j];

    /// <summary>Output of the resampling resnet (only when the level has one).</summary>
    public HookPoint Sampler => samplers[0];

    /// <summary>The block's output.</summary>
    public HookPoint Output => output;

    /// <summary>The names, in the order the block's forward reaches them.</summary>
    public IEnumerable<string> NamesInForwardOrder()
    {
        if (_attentionBeforeResnet)
        {
            yield return resnets[0].HookName;
            for (int j = 0; j < attentions.Count; j++)
            {
                yield return attentions[j].HookName;
                yield return resnets[j + 1].HookName;
            }
        }
        else
        {
            for (int j = 0; j < resnets.Count; j++)
            {
                yield return resnets[j].HookName;
                if (j < attentions.Count) yield return attentions[j].HookName;
            }
            if (samplers.Count > 0) yield return samplers[0].HookName;
        }
        yield return output.HookName;
    }
}
