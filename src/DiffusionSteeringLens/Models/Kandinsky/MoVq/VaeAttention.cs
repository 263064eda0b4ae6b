using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.MoVq;

/// <summary>
/// Spatial self-attention of the VAE blocks (diffusers <c>Attention</c> built from a deprecated attention block):
/// residual = x; x = norm(x); tokens = flatten(H·W); softmax(q·kᵀ·d^-½) in float32; <c>to_out.0</c>; + residual.
/// The norm is a <c>group_norm</c> (encoder, group-norm decoder) or a <c>spatial_norm</c> conditioned on the latent
/// (MoVQ decoder) — never both.
/// </summary>
internal sealed class VaeAttention : nn.Module<Tensor, Tensor?, Tensor>
{
    // Field names are the checkpoint's key segments (TorchSharp names state-dict entries after fields).
    private readonly GroupNorm? group_norm;
    private readonly SpatialNorm? spatial_norm;
    private readonly Linear to_q;
    private readonly Linear to_k;
    private readonly Linear to_v;
    private readonly ModuleList<Linear> to_out;

    private readonly int _heads;
    private readonly float _scale;

    /// <summary>Creates the layer.</summary>
    /// <param name="channels">Feature channels (query dimension).</param>
    /// <param name="headDim">Size of one head; the VAE uses one head spanning all channels.</param>
    /// <param name="groups">GroupNorm groups when <paramref name="spatialNormChannels"/> is null.</param>
    /// <param name="eps">GroupNorm epsilon.</param>
    /// <param name="spatialNormChannels">Latent channels for a spatial norm, or null for a plain group norm.</param>
    /// <param name="device">Parameter device.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public VaeAttention(int channels, int headDim, int groups, double eps, int? spatialNormChannels, Device device, ScalarType dtype)
        : base(nameof(VaeAttention))
    {
        if (headDim <= 0 || channels % headDim != 0)
            throw new ArgumentException($"head size {headDim} does not divide {channels} channels.", nameof(headDim));
        _heads = channels / headDim;
        _scale = (float)Math.Pow(headDim, -0.5);
        if (spatialNormChannels is int zq) spatial_norm = new SpatialNorm(channels, zq, device, dtype);
        else group_norm = KandinskyLayers.GroupNorm(groups, channels, eps, device, dtype);
        to_q = KandinskyLayers.Linear(channels, channels, device, dtype);
        to_k = KandinskyLayers.Linear(channels, channels, device, dtype);
        to_v = KandinskyLayers.Linear(channels, channels, device, dtype);
        to_out = new ModuleList<Linear>(KandinskyLayers.Linear(channels, channels, device, dtype));
        RegisterComponents();
    }

    /// <summary>Attends over the H·W positions of <paramref name="input"/> [B,C,H,W].</summary>
    /// <param name="input">Feature map.</param>
    /// <param name="zq">Conditioning latent; required when the layer has a spatial norm, ignored otherwise.</param>
    public override Tensor forward(Tensor input, Tensor? zq)
    {
        using var scope = NewDisposeScope();
        long b = input.shape[0], c = input.shape[1], height = input.shape[2], width = input.shape[3], t = height * width;
        var x = input;
        if (spatial_norm is not null)
        {
            ArgumentNullException.ThrowIfNull(zq);
            x = spatial_norm.call(x, zq);
        }
        x = x.reshape(b, c, t).transpose(1, 2);   // reshape: the feature map may be channels-last (CpuConv2d)
        if (group_norm is not null) x = group_norm.call(x.transpose(1, 2)).transpose(1, 2);

        long d = c / _heads;
        Tensor SplitHeads(Tensor y) => y.view(b, t, _heads, d).permute(0, 2, 1, 3).reshape(b * _heads, t, d);
        var q = SplitHeads(to_q.call(x));
        var k = SplitHeads(to_k.call(x));
        var v = SplitHeads(to_v.call(x));

        // The reference scales inside baddbmm (beta 0); TorchSharp 0.107's torch.baddbmm passes its operands to
        // libtorch in the wrong order, so the scale is applied after a plain bmm instead (same value up to rounding).
        var scores = torch.bmm(q, k.transpose(-1, -2)).mul_(_scale);
        var probs = scores.to(ScalarType.Float32).softmax(-1).to(q.dtype);
        var h = torch.bmm(probs, v);
        h = h.view(b, _heads, t, d).permute(0, 2, 1, 3).reshape(b, t, c);
        h = to_out[0].call(h);
        h = h.transpose(-1, -2).reshape(b, c, height, width);
        return (h + input).MoveToOuterDisposeScope();
    }
}
