using DiffusionSteeringLens.Hooks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.Dinov2;

/// <summary>
/// HF <c>Dinov2SwiGLUFFN</c> (<c>use_swiglu_ffn</c>): <c>weights_in</c> [D → 2h], split into halves x1, x2,
/// silu(x1)·x2, <c>weights_out</c> [h → D]. Hooks: <c>mlp.hook_pre</c> = the 2h-wide projection, <c>mlp.hook_post</c> =
/// the gated h-wide hidden.
/// </summary>
internal sealed class Dinov2SwiGluFfn : nn.Module<Tensor, Tensor>
{
    private readonly Linear weights_in;
    private readonly Linear weights_out;
    private readonly HookPoint hook_pre;
    private readonly HookPoint hook_post;

    public Dinov2SwiGluFfn(int hidden, int mlpHidden, int layer, HookRuntime runtime, Device device, ScalarType dtype)
        : base(nameof(Dinov2SwiGluFfn))
    {
        weights_in = nn.Linear(hidden, 2 * mlpHidden, hasBias: true, device: device, dtype: dtype);
        weights_out = nn.Linear(mlpHidden, hidden, hasBias: true, device: device, dtype: dtype);
        hook_pre = new HookPoint(HookNames.MlpPre(layer), runtime);
        hook_post = new HookPoint(HookNames.MlpPost(layer), runtime);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var both = hook_pre.call(weights_in.call(x));
        var halves = both.chunk(2, -1);
        return weights_out.call(hook_post.call(nn.functional.silu(halves[0]) * halves[1]));
    }
}
