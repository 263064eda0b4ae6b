using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.MoVq;

/// <summary>
/// VAE mid block: resnets.0 → (attentions.i → resnets.i+1). Spatially conditioned in the MoVQ decoder, plain
/// GroupNorm in the encoder. Attention can be switched off (<c>mid_block_add_attention</c>).
/// </summary>
internal sealed class UNetMidBlock2D : nn.Module<Tensor, Tensor?, Tensor>
{
    // Field names are the checkpoint's key segments.
    private readonly ModuleList<VaeAttention> attentions;
    private readonly ModuleList<ResnetBlock2D> resnets;

    /// <summary>Creates the block (one attention layer between two resnets).</summary>
    /// <param name="channels">Channels throughout.</param>
    /// <param name="groups">GroupNorm groups (group-norm variant).</param>
    /// <param name="zqChannels">Latent channels for spatial norms, or null for group norms.</param>
    /// <param name="addAttention">Whether the attention layer exists.</param>
    /// <param name="device">Parameter device.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public UNetMidBlock2D(int channels, int groups, int? zqChannels, bool addAttention, Device device, ScalarType dtype) : base(nameof(UNetMidBlock2D))
    {
        attentions = new ModuleList<VaeAttention>();
        resnets = new ModuleList<ResnetBlock2D>();
        resnets.Add(ResnetBlockSettings.Vae(groups, zqChannels, device, dtype).Create(channels, channels));
        if (addAttention) attentions.Add(new VaeAttention(channels, channels, groups, ResnetBlockSettings.VaeEps, zqChannels, device, dtype));
        resnets.Add(ResnetBlockSettings.Vae(groups, zqChannels, device, dtype).Create(channels, channels));
        RegisterComponents();
    }

    /// <summary>Runs the block; <paramref name="zq"/> conditions spatial norms and is ignored otherwise.</summary>
    public override Tensor forward(Tensor input, Tensor? zq)
    {
        using var scope = NewDisposeScope();
        var h = resnets[0].call(input, zq);
        for (int i = 1; i < resnets.Count; i++)
        {
            if (attentions.Count >= i) h = TensorChain.Advance(h, attentions[i - 1].call(h, zq), input);
            h = TensorChain.Advance(h, resnets[i].call(h, zq), input);
        }
        return h.MoveToOuterDisposeScope();
    }
}
