using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.MoVq;

/// <summary>Decoder level with attention: (resnet, attention) pairs, then an optional up-sampler.</summary>
internal sealed class AttnUpDecoderBlock2D : nn.Module<Tensor, Tensor?, Tensor>
{
    // Field names are the checkpoint's key segments.
    private readonly ModuleList<ResnetBlock2D> resnets;
    private readonly ModuleList<VaeAttention> attentions;
    private readonly ModuleList<Upsample2D>? upsamplers;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels (also the single head's size).</param>
    /// <param name="numLayers">Resnet/attention pairs (layers_per_block + 1 in the decoder).</param>
    /// <param name="groups">GroupNorm groups of a group-norm decoder.</param>
    /// <param name="zqChannels">Latent channels of a spatial-norm (MoVQ) decoder, or null.</param>
    /// <param name="addUpsample">Whether the level ends with an up-sampler.</param>
    /// <param name="device">Parameter device.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public AttnUpDecoderBlock2D(int inChannels, int outChannels, int numLayers, int groups, int? zqChannels, bool addUpsample, Device device, ScalarType dtype)
        : base(nameof(AttnUpDecoderBlock2D))
    {
        resnets = new ModuleList<ResnetBlock2D>();
        attentions = new ModuleList<VaeAttention>();
        for (int i = 0; i < numLayers; i++)
        {
            resnets.Add(ResnetBlockSettings.Vae(groups, zqChannels, device, dtype).Create(i == 0 ? inChannels : outChannels, outChannels));
            attentions.Add(new VaeAttention(outChannels, outChannels, groups, ResnetBlockSettings.VaeEps, zqChannels, device, dtype));
        }
        if (addUpsample) upsamplers = new ModuleList<Upsample2D>(new Upsample2D(outChannels, device, dtype));
        RegisterComponents();
    }

    /// <summary>Runs the level; <paramref name="zq"/> conditions the spatial norms.</summary>
    public override Tensor forward(Tensor input, Tensor? zq)
    {
        using var scope = NewDisposeScope();
        var h = input;
        for (int i = 0; i < resnets.Count; i++)
        {
            h = TensorChain.Advance(h, resnets[i].call(h, zq), input);
            h = TensorChain.Advance(h, attentions[i].call(h, zq), input);
        }
        if (upsamplers is not null) foreach (var up in upsamplers) h = TensorChain.Advance(h, up.call(h), input);
        return h.MoveToOuterDisposeScope();
    }
}
