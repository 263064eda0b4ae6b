using DiffusionSteeringLens.Hooks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.ClipVision;

/// <summary>
/// One pre-LN CLIP block (HF <c>CLIPEncoderLayer</c>): resid_mid = resid_pre + attn(LN1(resid_pre));
/// resid_post = resid_mid + mlp(LN2(resid_mid)). Every term has a hook point.
/// </summary>
internal sealed class ClipEncoderLayer : nn.Module<Tensor, Tensor>
{
    private readonly ClipAttention self_attn;
    private readonly LayerNorm layer_norm1;
    private readonly ClipMlp mlp;
    private readonly LayerNorm layer_norm2;
    private readonly HookPoint hook_resid_pre;
    private readonly HookPoint hook_ln1;
    private readonly HookPoint hook_attn_out;
    private readonly HookPoint hook_resid_mid;
    private readonly HookPoint hook_ln2;
    private readonly HookPoint hook_mlp_out;
    private readonly HookPoint hook_resid_post;

    /// <summary>Builds layer <paramref name="layer"/>.</summary>
    public ClipEncoderLayer(ClipVisionConfig config, int layer, HookRuntime runtime, Device device, ScalarType dtype)
        : base(nameof(ClipEncoderLayer))
    {
        ArgumentNullException.ThrowIfNull(config);
        self_attn = new ClipAttention(config, layer, runtime, device, dtype);
        layer_norm1 = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        mlp = new ClipMlp(config, layer, runtime, device, dtype);
        layer_norm2 = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        hook_resid_pre = new HookPoint(HookNames.ResidPre(layer), runtime);
        hook_ln1 = new HookPoint(HookNames.Ln1(layer), runtime);
        hook_attn_out = new HookPoint(HookNames.AttnOut(layer), runtime);
        hook_resid_mid = new HookPoint(HookNames.ResidMid(layer), runtime);
        hook_ln2 = new HookPoint(HookNames.Ln2(layer), runtime);
        hook_mlp_out = new HookPoint(HookNames.MlpOut(layer), runtime);
        hook_resid_post = new HookPoint(HookNames.ResidPost(layer), runtime);
        RegisterComponents();
    }

    /// <summary>The block's attention (out-projection weights for per-head analysis).</summary>
    public ClipAttention Attention => self_attn;

    /// <summary>Residual [B, T, D] in → residual [B, T, D] out.</summary>
    public override Tensor forward(Tensor x)
    {
        var residPre = hook_resid_pre.call(x);
        var attnOut = hook_attn_out.call(self_attn.call(hook_ln1.call(layer_norm1.call(residPre))));
        var residMid = hook_resid_mid.call(residPre + attnOut);
        var mlpOut = hook_mlp_out.call(mlp.call(hook_ln2.call(layer_norm2.call(residMid))));
        return hook_resid_post.call(residMid + mlpOut);
    }
}
