using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit.HfLayout;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.ClipVision;

/// <summary>CLIP MLP (HF <c>CLIPMLP</c>): fc1 → activation → fc2. Hooks: <c>mlp.hook_pre</c>, <c>mlp.hook_post</c>.</summary>
internal sealed class ClipMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly HookPoint hook_pre;
    private readonly HookPoint hook_post;
    private readonly string _activation;

    /// <summary>Builds the MLP of one layer.</summary>
    public ClipMlp(ClipVisionConfig config, int layer, HookRuntime runtime, Device device, ScalarType dtype)
        : base(nameof(ClipMlp))
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!ClipVisionConfig.SupportedActivations.Contains(config.HiddenAct))
            throw new ArgumentException($"Unsupported hidden_act '{config.HiddenAct}'.", nameof(config));
        _activation = config.HiddenAct;
        fc1 = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: true, device: device, dtype: dtype);
        fc2 = nn.Linear(config.IntermediateSize, config.HiddenSize, hasBias: true, device: device, dtype: dtype);
        hook_pre = new HookPoint(HookNames.MlpPre(layer), runtime);
        hook_post = new HookPoint(HookNames.MlpPost(layer), runtime);
        RegisterComponents();
    }

    /// <summary>LN2 output [B, T, D] → MLP output [B, T, D].</summary>
    public override Tensor forward(Tensor x)
    {
        var pre = hook_pre.call(fc1.call(x));
        // The ViT ports' activations (exact erf GELU for ViT-bigG, quick_gelu for OpenAI's CLIPs).
        var post = hook_post.call(VitActivation.Apply(_activation, pre));
        return fc2.call(post);
    }
}
