using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit.HfLayout;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.ViT;

/// <summary>
/// One pre-LN HF <c>ViTLayer</c>: resid_mid = resid_pre + attention(layernorm_before(resid_pre));
/// resid_post = resid_mid + output.dense(act(intermediate.dense(layernorm_after(resid_mid)))). Every term has a hook point.
/// </summary>
internal sealed class ViTLayer : nn.Module<Tensor, Tensor>
{
    // Field names are the checkpoint keys.
    private readonly HfAttention attention;
    private readonly HfDense intermediate;
    private readonly HfDense output;
    private readonly LayerNorm layernorm_before;
    private readonly LayerNorm layernorm_after;
    private readonly HookPoint hook_resid_pre;
    private readonly HookPoint hook_ln1;
    private readonly HookPoint hook_attn_out;
    private readonly HookPoint hook_resid_mid;
    private readonly HookPoint hook_ln2;
    private readonly HookPoint hook_mlp_pre;
    private readonly HookPoint hook_mlp_post;
    private readonly HookPoint hook_mlp_out;
    private readonly HookPoint hook_resid_post;
    private readonly string _activation;

    public ViTLayer(VitConfig config, int layer, HookRuntime runtime, Device device, ScalarType dtype) : base(nameof(ViTLayer))
    {
        int d = config.HiddenSize;
        _activation = config.HiddenAct;
        attention = new HfAttention(d, config.NumAttentionHeads, config.QkvBias, layer, runtime, device, dtype);
        intermediate = new HfDense(d, config.IntermediateSize, device, dtype);
        output = new HfDense(config.IntermediateSize, d, device, dtype);
        layernorm_before = nn.LayerNorm(d, config.LayerNormEps, device: device, dtype: dtype);
        layernorm_after = nn.LayerNorm(d, config.LayerNormEps, device: device, dtype: dtype);
        hook_resid_pre = new HookPoint(HookNames.ResidPre(layer), runtime);
        hook_ln1 = new HookPoint(HookNames.Ln1(layer), runtime);
        hook_attn_out = new HookPoint(HookNames.AttnOut(layer), runtime);
        hook_resid_mid = new HookPoint(HookNames.ResidMid(layer), runtime);
        hook_ln2 = new HookPoint(HookNames.Ln2(layer), runtime);
        hook_mlp_pre = new HookPoint(HookNames.MlpPre(layer), runtime);
        hook_mlp_post = new HookPoint(HookNames.MlpPost(layer), runtime);
        hook_mlp_out = new HookPoint(HookNames.MlpOut(layer), runtime);
        hook_resid_post = new HookPoint(HookNames.ResidPost(layer), runtime);
        RegisterComponents();
    }

    public HfAttention Attention => attention;

    public override Tensor forward(Tensor x)
    {
        var residPre = hook_resid_pre.call(x);
        var attnOut = hook_attn_out.call(attention.Attend(hook_ln1.call(layernorm_before.call(residPre)), null));
        var residMid = hook_resid_mid.call(residPre + attnOut);
        var pre = hook_mlp_pre.call(intermediate.call(hook_ln2.call(layernorm_after.call(residMid))));
        var post = hook_mlp_post.call(VitActivation.Apply(_activation, pre));
        var mlpOut = hook_mlp_out.call(output.call(post));
        return hook_resid_post.call(residMid + mlpOut);
    }
}
