using DiffusionSteeringLens.Models.Vit.ClipVision;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Analysis;

/// <summary>
/// A tiny CLIP vision model built from an in-memory config whose every weight is set by hand: construction starts from
/// all zeros with identity LayerNorms (γ = 1, β = 0) and zero MLPs (so <c>mlp_out</c> = 0), and the planted-role models
/// write only the weights their role needs.
/// </summary>
internal static class HandBuiltClip
{
    /// <summary>2 layers × 4 heads, 16 px images in 4 × 4 patches (17 tokens), the given widths.</summary>
    public static ClipVisionConfig Config(int hiddenSize, int projectionDim) => new()
    {
        HiddenSize = hiddenSize,
        IntermediateSize = 8,
        ProjectionDim = projectionDim,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        ImageSize = 16,
        PatchSize = 4,
        HiddenAct = "gelu",
    };

    /// <summary>The model with every parameter zero except LayerNorm weights (1).</summary>
    public static ClipVisionModelWithProjection Zeroed(ClipVisionConfig config)
    {
        var vit = new ClipVisionModelWithProjection(config);
        using var _ = torch.no_grad();
        foreach (var (name, p) in vit.named_parameters())
        {
            bool lnWeight = (name.Contains("layer_norm") || name.Contains("layrnorm") || name.Contains("layernorm")) && name.EndsWith(".weight");
            if (lnWeight) p.fill_(1);
            else p.zero_();
        }
        return vit;
    }

    /// <summary>The live parameter called <paramref name="name"/> (state-dict key).</summary>
    public static torch.Tensor Param(ClipVisionModelWithProjection vit, string name) => vit.state_dict()[name];

    /// <summary>Sets one entry of a matrix.</summary>
    public static void Set(torch.Tensor matrix, long row, long col, double value)
    {
        using var e = matrix[row, col];
        e.fill_(value);
    }

    /// <summary>Sets one entry of a vector.</summary>
    public static void Set(torch.Tensor vector, long index, double value)
    {
        using var e = vector[index];
        e.fill_(value);
    }

    /// <summary>Prefix of layer <paramref name="layer"/>'s attention parameters.</summary>
    public static string Attn(int layer) => $"vision_model.encoder.layers.{layer}.self_attn.";
}
