using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.HfLayout;

/// <summary>The <c>hidden_act</c> values the ViT and DINOv2 ports implement (transformers' <c>ACT2FN</c> spellings).</summary>
internal static class VitActivation
{
    public static readonly string[] Supported = { "gelu", "gelu_new", "gelu_pytorch_tanh", "quick_gelu", "relu", "silu", "swish" };

    public static Tensor Apply(string name, Tensor x) => name switch
    {
        "gelu" => nn.functional.gelu(x), // exact erf GELU
        "gelu_new" or "gelu_pytorch_tanh" => nn.functional.gelu(x, GELU.Approximate.tanh),
        "quick_gelu" => x * torch.sigmoid(x * 1.702),
        "relu" => nn.functional.relu(x),
        "silu" or "swish" => nn.functional.silu(x),
        _ => throw new InvalidOperationException($"Unsupported activation '{name}'."),
    };
}
