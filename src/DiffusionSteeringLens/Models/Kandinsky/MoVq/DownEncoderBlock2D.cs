using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.MoVq;

/// <summary>Encoder level without attention: <c>resnets</c>, then an optional stride-2 <c>downsamplers.0</c>.</summary>
internal sealed class DownEncoderBlock2D : nn.Module<Tensor, Tensor>
{
    // Field names are the checkpoint's key segments.
    private readonly ModuleList<ResnetBlock2D> resnets;
    private readonly ModuleList<Downsample2D>? downsamplers;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="numLayers">Resnets.</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="addDownsample">Whether the level ends with a down-sampler.</param>
    /// <param name="device">Parameter device.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public DownEncoderBlock2D(int inChannels, int outChannels, int numLayers, int groups, bool addDownsample, Device device, ScalarType dtype)
        : base(nameof(DownEncoderBlock2D))
    {
        resnets = new ModuleList<ResnetBlock2D>();
        for (int i = 0; i < numLayers; i++)
            resnets.Add(ResnetBlockSettings.Vae(groups, null, device, dtype).Create(i == 0 ? inChannels : outChannels, outChannels));
        if (addDownsample) downsamplers = new ModuleList<Downsample2D>(new Downsample2D(outChannels, device, dtype));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var h = input;
        foreach (var resnet in resnets) h = TensorChain.Advance(h, resnet.call(h, null), input);
        if (downsamplers is not null) foreach (var down in downsamplers) h = TensorChain.Advance(h, down.call(h), input);
        return h.MoveToOuterDisposeScope();
    }
}
