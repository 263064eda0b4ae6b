using TorchSharp;

namespace DiffusionSteeringLens.Hooks;

/// <summary>
/// The final residual stream split into the terms that were added to it: the embeddings (ln_pre output), every head's
/// result, every layer's attention bias, every MLP output. <see cref="Components"/> sums over axis 0 to the final
/// resid_post. Dispose it.
/// </summary>
/// <param name="Names">One label per component, in order (e.g. <c>embed</c>, <c>L3H7</c>, <c>L3_attn_bias</c>, <c>L3_mlp</c>).</param>
/// <param name="Components">Stacked components [C, B, T', D] (owned).</param>
public sealed record ResidualDecomposition(IReadOnlyList<string> Names, torch.Tensor Components) : IDisposable
{
    /// <summary>Label of the embeddings component.</summary>
    public const string EmbedName = "embed";

    /// <summary>Label of head <paramref name="head"/> of layer <paramref name="layer"/>.</summary>
    public static string HeadName(int layer, int head) => $"L{layer}H{head}";

    /// <summary>Label of a layer's attention-bias component.</summary>
    public static string AttnBiasName(int layer) => $"L{layer}_attn_bias";

    /// <summary>Label of a layer's MLP component.</summary>
    public static string MlpName(int layer) => $"L{layer}_mlp";

    /// <inheritdoc />
    public void Dispose() => Components.Dispose();
}
