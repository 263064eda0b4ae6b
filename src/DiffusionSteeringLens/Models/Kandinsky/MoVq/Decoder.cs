using DiffusionSteeringLens.Models.Kandinsky.Layers;
using DiffusionSteeringLens.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.MoVq;

/// <summary>
/// VAE decoder: <c>conv_in</c> → <c>mid_block</c> → <c>up_blocks</c> → norm → SiLU → <c>conv_out</c>. With
/// <c>norm_type "spatial"</c> (MoVQ) every norm is a <see cref="SpatialNorm"/> conditioned on the latent given to
/// <see cref="forward"/> as <c>zq</c>.
/// </summary>
internal sealed class Decoder : nn.Module<Tensor, Tensor?, Tensor>
{
    // Field names are the checkpoint's key segments. conv_norm_out is a SpatialNorm or a GroupNorm by config.
    private readonly Conv2d conv_in;
    private readonly ModuleList<nn.Module<Tensor, Tensor?, Tensor>> up_blocks;
    private readonly UNetMidBlock2D mid_block;
    private readonly nn.Module conv_norm_out;
    private readonly Conv2d conv_out;

    /// <summary>Builds the decoder described by <paramref name="config"/>.</summary>
    /// <param name="config">Model config.</param>
    /// <param name="device">Parameter device.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public Decoder(VqModelConfig config, Device device, ScalarType dtype) : base(nameof(Decoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        var reversed = config.BlockOutChannels.Reverse().ToArray();
        int groups = config.NormNumGroups;
        int? zq = config.IsSpatialNorm ? config.LatentChannels : null;
        conv_in = KandinskyLayers.Conv2d(config.LatentChannels, reversed[0], 3, device, dtype);
        mid_block = new UNetMidBlock2D(reversed[0], groups, zq, config.MidBlockAddAttention, device, dtype);
        up_blocks = new ModuleList<nn.Module<Tensor, Tensor?, Tensor>>();
        int output = reversed[0];
        for (int i = 0; i < config.UpBlockTypes.Count; i++)
        {
            int input = output;
            output = reversed[i];
            bool last = i == reversed.Length - 1;
            int layers = config.LayersPerBlock + 1;
            up_blocks.Add(config.UpBlockTypes[i] switch
            {
                "AttnUpDecoderBlock2D" => new AttnUpDecoderBlock2D(input, output, layers, groups, zq, !last, device, dtype),
                _ => new UpDecoderBlock2D(input, output, layers, groups, zq, !last, device, dtype),
            });
        }
        int first = config.BlockOutChannels[0];
        conv_norm_out = zq is int z
            ? new SpatialNorm(first, z, device, dtype)
            : KandinskyLayers.GroupNorm(groups, first, ResnetBlockSettings.VaeEps, device, dtype);
        conv_out = KandinskyLayers.Conv2d(first, config.OutChannels, 3, device, dtype);
        RegisterComponents();
    }

    /// <summary>Decodes <paramref name="latent"/> (after <c>post_quant_conv</c>) into an image.</summary>
    /// <param name="latent">[B, latent, h, w].</param>
    /// <param name="zq">The conditioning latent (before <c>post_quant_conv</c>); required for a spatial-norm decoder.</param>
    public override Tensor forward(Tensor latent, Tensor? zq)
    {
        using var scope = NewDisposeScope();
        var h = CpuConv2d.Forward(conv_in, latent);
        h = TensorChain.Advance(h, mid_block.call(h, zq), latent);
        foreach (var block in up_blocks) h = TensorChain.Advance(h, block.call(h, zq), latent);
        h = TensorChain.Advance(h, conv_norm_out switch
        {
            SpatialNorm spatial => spatial.call(h, zq ?? throw new ArgumentNullException(nameof(zq), "a spatial-norm decoder needs the latent zq.")),
            GroupNorm group => group.call(h),
            _ => throw new InvalidOperationException("unexpected output norm type."),
        }, latent);
        nn.functional.silu(h, inplace: true);
        return CpuConv2d.Forward(conv_out, h).MoveToOuterDisposeScope();
    }
}
