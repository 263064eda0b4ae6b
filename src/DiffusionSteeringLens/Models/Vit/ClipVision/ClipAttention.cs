using DiffusionSteeringLens.Hooks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.ClipVision;

/// <summary>
/// CLIP multi-head self-attention (HF <c>CLIPAttention</c>, no mask). Hooks: <c>hook_q/k/v</c> [B,T,H,d] (q unscaled),
/// <c>hook_pattern</c> [B,H,T,T] (softmax in float32), <c>hook_z</c> [B,T,H,d], and <c>hook_result</c> [B,T,H,D], the
/// per-head write into the residual without the out-projection bias. The result is computed only when it is hooked or
/// cached; then the block output is Σ_h result + bias, otherwise the fused out-projection.
/// </summary>
internal sealed class ClipAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear q_proj;
    private readonly Linear k_proj;
    private readonly Linear v_proj;
    private readonly Linear out_proj;
    private readonly HookPoint hook_q;
    private readonly HookPoint hook_k;
    private readonly HookPoint hook_v;
    private readonly HookPoint hook_pattern;
    private readonly HookPoint hook_z;
    private readonly HookPoint hook_result;
    private readonly int _heads;
    private readonly int _headDim;
    private readonly double _scale;

    /// <summary>Builds the attention of one layer.</summary>
    public ClipAttention(ClipVisionConfig config, int layer, HookRuntime runtime, Device device, ScalarType dtype)
        : base(nameof(ClipAttention))
    {
        ArgumentNullException.ThrowIfNull(config);
        int d = config.HiddenSize;
        _heads = config.NumAttentionHeads;
        _headDim = config.HeadDim;
        _scale = Math.Pow(_headDim, -0.5);
        q_proj = nn.Linear(d, d, hasBias: true, device: device, dtype: dtype);
        k_proj = nn.Linear(d, d, hasBias: true, device: device, dtype: dtype);
        v_proj = nn.Linear(d, d, hasBias: true, device: device, dtype: dtype);
        out_proj = nn.Linear(d, d, hasBias: true, device: device, dtype: dtype);
        hook_q = new HookPoint(HookNames.Q(layer), runtime);
        hook_k = new HookPoint(HookNames.K(layer), runtime);
        hook_v = new HookPoint(HookNames.V(layer), runtime);
        hook_pattern = new HookPoint(HookNames.Pattern(layer), runtime);
        hook_z = new HookPoint(HookNames.Z(layer), runtime);
        hook_result = new HookPoint(HookNames.Result(layer), runtime);
        RegisterComponents();
    }

    /// <summary>Out-projection weight W_O [D, H·d]; head h reads input columns h·d … (h+1)·d − 1. Do not modify.</summary>
    public Tensor OutProjWeight => out_proj.weight!;

    /// <summary>Out-projection bias b_O [D], added once per layer. Do not modify.</summary>
    public Tensor OutProjBias => out_proj.bias!;

    /// <summary>LN1 output [B, T, D] → attention block output [B, T, D] (bias included).</summary>
    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], t = x.shape[1], d = x.shape[2];
        var q = hook_q.call(q_proj.call(x).view(b, t, _heads, _headDim));
        var k = hook_k.call(k_proj.call(x).view(b, t, _heads, _headDim));
        var v = hook_v.call(v_proj.call(x).view(b, t, _heads, _headDim));

        var scores = torch.matmul(q.transpose(1, 2), k.permute(0, 2, 3, 1)).mul(_scale); // [B,H,T,T]
        // Softmax in float32 as HF's eager attention does, whatever the compute dtype.
        var pattern = hook_pattern.call(scores.to(ScalarType.Float32).softmax(-1).to(x.dtype));
        var z = hook_z.call(torch.matmul(pattern, v.transpose(1, 2)).transpose(1, 2)); // [B,T,H,d]

        if (!hook_result.IsActive)
            return out_proj.call(z.reshape(b, t, d));

        // Per-head write: z_h · W_O[:, h-slice]ᵀ, bias excluded.
        var wo = out_proj.weight!.view(d, _heads, _headDim);
        if (hook_result.IsCacheOnly)
        {
            // Only cached (e.g. at CLS for the closed-form DSL): per-head writes at the cached tokens for the cache, and
            // the output by the fused projection, so a cached run returns what a plain forward returns.
            var zc = hook_result.CachePositions is { } positions ? z.index_select(1, positions) : z;
            hook_result.Record(torch.einsum("bthk,ehk->bthe", zc, wo));
            return out_proj.call(z.reshape(b, t, d));
        }
        var result = hook_result.call(torch.einsum("bthk,ehk->bthe", z, wo));
        return result.sum(2) + out_proj.bias!;
    }
}
