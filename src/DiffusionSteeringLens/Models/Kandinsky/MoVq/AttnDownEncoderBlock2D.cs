using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.MoVq;

/// <summary>Encoder level with attention: (resnet, group-norm attention) pairs, then an optional down-sampler.</summary>
internal sealed class AttnDownEncoderBlock2D : nn.Module<Tensor, Tensor>
{
    // Field names are the checkpoint's key segments.
    private readonly ModuleList<ResnetBlock2D> resnets;
    private readonly ModuleList<VaeAttention> attentions;
    private readonly ModuleList<Downsample2D>? downsamplers;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels (also the single head's size).</param>
    /// <param name="numLayers">Resnet/attention pairs.</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="addDownsample">Whether the level ends with a down-sampler.</param>
    /// <param name="device">Parameter device.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public AttnDownEncoderBlock2D(int inChannels, int outChannels, int numLayers, int groups, bool addDownsample, Device device, ScalarType dtype)
        : base(nameof(AttnDownEncoderBlock2D))
    {
        resnets = new ModuleList<ResnetBlock2D>();
        attentions = new ModuleList<VaeAttention>();
        for (int i = 0; i < numLayers; i++)
        {
            resnets.Add(ResnetBlockSettings.Vae(groups, null, device, dtype).Create(i == 0 ? inChannels : outChannels, outChannels));
            attentions.Add(new VaeAttention(outChannels, outChannels, groups, ResnetBlockSettings.VaeEps, null, device, dtype));
        }
        if (addDownsample) downsamplers = new ModuleList<Downsample2D>(new Downsample2D(outChannels, device, dtype));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var h = input;
        for (int i = 0; i < resnets.Count; i++)
        {
            h = TensorChain.Advance(h, resnets[i].call(h, null), input);
            h = TensorChain.Advance(h, attentions[i].call(h, null), input);
        }
        if (downsamplers is not null) foreach (var down in downsamplers) h = TensorChain.Advance(h, down.call(h), input);
        return h.MoveToOuterDisposeScope();
    }
}
