using DiffusionSteeringLens.Hooks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.HfLayout;

/// <summary>
/// HF <c>ViTAttention</c> / <c>Dinov2Attention</c> (keys <c>attention.{query,key,value}</c>, <c>output.dense</c>) with the
/// TransformerLens hook points <c>hook_q/k/v</c> [B,T,H,d], <c>hook_pattern</c> [B,H,T,T], <c>hook_z</c> [B,T,H,d] and the
/// on-demand <c>hook_result</c> [B,T,H,D].
/// </summary>
/// <remarks>
/// An optional per-channel scale (DINOv2's layer scale) multiplies the output, so <c>hook_result</c> is what each head
/// adds to the residual stream (scaled, out-projection bias excluded) and Σ_h result + scale ⊙ b_O is the block output.
/// </remarks>
internal sealed class HfAttention : nn.Module
{
    private readonly HfSelfAttention attention;
    private readonly HfDense output;
    private readonly HookPoint hook_q;
    private readonly HookPoint hook_k;
    private readonly HookPoint hook_v;
    private readonly HookPoint hook_pattern;
    private readonly HookPoint hook_z;
    private readonly HookPoint hook_result;
    private readonly int _heads;
    private readonly int _headDim;

    public HfAttention(int hidden, int heads, bool qkvBias, int layer, HookRuntime runtime, Device device, ScalarType dtype)
        : base(nameof(HfAttention))
    {
        _heads = heads;
        _headDim = hidden / heads;
        attention = new HfSelfAttention(hidden, qkvBias, device, dtype);
        output = new HfDense(hidden, hidden, device, dtype);
        hook_q = new HookPoint(HookNames.Q(layer), runtime);
        hook_k = new HookPoint(HookNames.K(layer), runtime);
        hook_v = new HookPoint(HookNames.V(layer), runtime);
        hook_pattern = new HookPoint(HookNames.Pattern(layer), runtime);
        hook_z = new HookPoint(HookNames.Z(layer), runtime);
        hook_result = new HookPoint(HookNames.Result(layer), runtime);
        RegisterComponents();
    }

    /// <summary>W_O [D, H·d]: head h reads input columns h·d … (h+1)·d − 1. The live parameter.</summary>
    public Tensor OutProjWeight => output.Dense.weight!;

    /// <summary>b_O [D]. The live parameter.</summary>
    public Tensor OutProjBias => output.Dense.bias!;

    /// <summary>Normalised residual [B, T, D] → attention output [B, T, D], times <paramref name="scale"/> [D] when given.</summary>
    public Tensor Attend(Tensor x, Tensor? scale)
    {
        long b = x.shape[0], t = x.shape[1], d = x.shape[2];
        var q = hook_q.call(attention.Query.call(x).view(b, t, _heads, _headDim));
        var k = hook_k.call(attention.Key.call(x).view(b, t, _heads, _headDim));
        var v = hook_v.call(attention.Value.call(x).view(b, t, _heads, _headDim));

        // HF divides the scores (not q) by sqrt(d); softmax in float32 whatever the compute dtype.
        var scores = torch.matmul(q.transpose(1, 2), k.permute(0, 2, 3, 1)).div(Math.Sqrt(_headDim)); // [B,H,T,T]
        var pattern = hook_pattern.call(scores.to(ScalarType.Float32).softmax(-1).to(x.dtype));
        var z = hook_z.call(torch.matmul(pattern, v.transpose(1, 2)).transpose(1, 2)); // [B,T,H,d]

        if (!hook_result.IsActive)
        {
            var fused = output.call(z.reshape(b, t, d));
            return scale is null ? fused : fused * scale;
        }

        // Per-head write z_h · W_O[:, h-slice]ᵀ (scaled), bias excluded.
        var wo = OutProjWeight.view(d, _heads, _headDim);
        if (hook_result.IsCacheOnly)
        {
            // Only cached (e.g. at CLS for the closed-form DSL): per-head writes at the cached tokens for the cache, and
            // the output by the fused projection, so a cached run returns what a plain forward returns.
            var zc = hook_result.CachePositions is { } positions ? z.index_select(1, positions) : z;
            var selected = torch.einsum("bthk,ehk->bthe", zc, wo);
            hook_result.Record(scale is null ? selected : selected * scale);
            var fused = output.call(z.reshape(b, t, d));
            return scale is null ? fused : fused * scale;
        }
        var perHead = torch.einsum("bthk,ehk->bthe", z, wo);
        var result = hook_result.call(scale is null ? perHead : perHead * scale);
        var bias = scale is null ? OutProjBias : OutProjBias * scale;
        return result.sum(2) + bias;
    }
}
