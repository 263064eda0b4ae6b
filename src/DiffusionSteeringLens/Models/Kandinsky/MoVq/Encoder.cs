using DiffusionSteeringLens.Models.Kandinsky.Layers;
using DiffusionSteeringLens.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.MoVq;

/// <summary>
/// VAE encoder: <c>conv_in</c> → <c>down_blocks</c> → <c>mid_block</c> → GroupNorm → SiLU → <c>conv_out</c> to the
/// latent channels (a VQ encoder has no mean/log-variance doubling).
/// </summary>
internal sealed class Encoder : nn.Module<Tensor, Tensor>
{
    // Field names are the checkpoint's key segments.
    private readonly Conv2d conv_in;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> down_blocks;
    private readonly UNetMidBlock2D mid_block;
    private readonly GroupNorm conv_norm_out;
    private readonly Conv2d conv_out;

    /// <summary>Builds the encoder described by <paramref name="config"/>.</summary>
    /// <param name="config">Model config.</param>
    /// <param name="device">Parameter device.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public Encoder(VqModelConfig config, Device device, ScalarType dtype) : base(nameof(Encoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        var channels = config.BlockOutChannels;
        int groups = config.NormNumGroups;
        conv_in = KandinskyLayers.Conv2d(config.InChannels, channels[0], 3, device, dtype);
        down_blocks = new ModuleList<nn.Module<Tensor, Tensor>>();
        int output = channels[0];
        for (int i = 0; i < config.DownBlockTypes.Count; i++)
        {
            int input = output;
            output = channels[i];
            bool last = i == channels.Count - 1;
            down_blocks.Add(config.DownBlockTypes[i] switch
            {
                "AttnDownEncoderBlock2D" => new AttnDownEncoderBlock2D(input, output, config.LayersPerBlock, groups, !last, device, dtype),
                _ => new DownEncoderBlock2D(input, output, config.LayersPerBlock, groups, !last, device, dtype),
            });
        }
        mid_block = new UNetMidBlock2D(channels[^1], groups, null, config.MidBlockAddAttention, device, dtype);
        conv_norm_out = KandinskyLayers.GroupNorm(groups, channels[^1], ResnetBlockSettings.VaeEps, device, dtype);
        conv_out = KandinskyLayers.Conv2d(channels[^1], config.LatentChannels, 3, device, dtype);
        RegisterComponents();
    }

    /// <summary>Encodes images [B, in, H, W] to [B, latent, H/sf, W/sf] (before <c>quant_conv</c>).</summary>
    public override Tensor forward(Tensor image)
    {
        using var scope = NewDisposeScope();
        var h = CpuConv2d.Forward(conv_in, image);
        foreach (var block in down_blocks) h = TensorChain.Advance(h, block.call(h), image);
        h = TensorChain.Advance(h, mid_block.call(h, null), image);
        h = TensorChain.Advance(h, conv_norm_out.call(h), image);
        nn.functional.silu(h, inplace: true);
        return CpuConv2d.Forward(conv_out, h).MoveToOuterDisposeScope();
    }
}
