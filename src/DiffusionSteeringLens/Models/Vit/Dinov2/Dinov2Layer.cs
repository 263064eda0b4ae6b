using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit.HfLayout;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.Dinov2;

/// <summary>
/// One HF <c>Dinov2Layer</c>: resid_mid = resid_pre + λ₁ ⊙ attention(norm1(resid_pre));
/// resid_post = resid_mid + λ₂ ⊙ mlp(norm2(resid_mid)). <c>hook_attn_out</c>/<c>hook_mlp_out</c> are the scaled terms
/// (what is added to the residual), and <c>hook_result</c> is scaled too, so residual decompositions stay exact.
/// </summary>
internal sealed class Dinov2Layer : nn.Module<Tensor, Tensor>
{
    // Field names are the checkpoint keys.
    private readonly LayerNorm norm1;
    private readonly HfAttention attention;
    private readonly Dinov2LayerScale layer_scale1;
    private readonly LayerNorm norm2;
    private readonly nn.Module<Tensor, Tensor> mlp;
    private readonly Dinov2LayerScale layer_scale2;
    private readonly HookPoint hook_resid_pre;
    private readonly HookPoint hook_ln1;
    private readonly HookPoint hook_attn_out;
    private readonly HookPoint hook_resid_mid;
    private readonly HookPoint hook_ln2;
    private readonly HookPoint hook_mlp_out;
    private readonly HookPoint hook_resid_post;

    public Dinov2Layer(Dinov2Config config, int layer, HookRuntime runtime, Device device, ScalarType dtype)
        : base(nameof(Dinov2Layer))
    {
        int d = config.HiddenSize;
        norm1 = nn.LayerNorm(d, config.LayerNormEps, device: device, dtype: dtype);
        attention = new HfAttention(d, config.NumAttentionHeads, config.QkvBias, layer, runtime, device, dtype);
        layer_scale1 = new Dinov2LayerScale(d, config.LayerScaleValue, device, dtype);
        norm2 = nn.LayerNorm(d, config.LayerNormEps, device: device, dtype: dtype);
        mlp = config.UseSwiGluFfn
            ? new Dinov2SwiGluFfn(d, config.MlpHiddenSize, layer, runtime, device, dtype)
            : new Dinov2Mlp(d, config.MlpHiddenSize, config.HiddenAct, layer, runtime, device, dtype);
        layer_scale2 = new Dinov2LayerScale(d, config.LayerScaleValue, device, dtype);
        hook_resid_pre = new HookPoint(HookNames.ResidPre(layer), runtime);
        hook_ln1 = new HookPoint(HookNames.Ln1(layer), runtime);
        hook_attn_out = new HookPoint(HookNames.AttnOut(layer), runtime);
        hook_resid_mid = new HookPoint(HookNames.ResidMid(layer), runtime);
        hook_ln2 = new HookPoint(HookNames.Ln2(layer), runtime);
        hook_mlp_out = new HookPoint(HookNames.MlpOut(layer), runtime);
        hook_resid_post = new HookPoint(HookNames.ResidPost(layer), runtime);
        RegisterComponents();
    }

    public HfAttention Attention => attention;

    /// <summary>λ₁ [D], the attention layer scale.</summary>
    public Tensor AttentionScale => layer_scale1.Lambda;

    /// <summary>λ₂ [D], the MLP layer scale.</summary>
    public Tensor MlpScale => layer_scale2.Lambda;

    public override Tensor forward(Tensor x)
    {
        var residPre = hook_resid_pre.call(x);
        var attnOut = hook_attn_out.call(attention.Attend(hook_ln1.call(norm1.call(residPre)), layer_scale1.Lambda));
        var residMid = hook_resid_mid.call(residPre + attnOut);
        var mlpOut = hook_mlp_out.call(layer_scale2.call(mlp.call(hook_ln2.call(norm2.call(residMid)))));
        return hook_resid_post.call(residMid + mlpOut);
    }
}
