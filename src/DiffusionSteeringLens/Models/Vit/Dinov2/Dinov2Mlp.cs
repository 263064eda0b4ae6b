using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit.HfLayout;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.Dinov2;

/// <summary>HF <c>Dinov2MLP</c>: <c>fc1</c> → activation → <c>fc2</c>. Hooks <c>mlp.hook_pre</c>, <c>mlp.hook_post</c>.</summary>
internal sealed class Dinov2Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly HookPoint hook_pre;
    private readonly HookPoint hook_post;
    private readonly string _activation;

    public Dinov2Mlp(int hidden, int mlpHidden, string activation, int layer, HookRuntime runtime, Device device, ScalarType dtype)
        : base(nameof(Dinov2Mlp))
    {
        _activation = activation;
        fc1 = nn.Linear(hidden, mlpHidden, hasBias: true, device: device, dtype: dtype);
        fc2 = nn.Linear(mlpHidden, hidden, hasBias: true, device: device, dtype: dtype);
        hook_pre = new HookPoint(HookNames.MlpPre(layer), runtime);
        hook_post = new HookPoint(HookNames.MlpPost(layer), runtime);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) =>
        fc2.call(hook_post.call(VitActivation.Apply(_activation, hook_pre.call(fc1.call(x)))));
}
