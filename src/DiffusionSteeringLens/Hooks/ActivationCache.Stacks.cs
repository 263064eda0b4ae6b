using DiffusionSteeringLens.Models.Vit;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Hooks;

/// <summary>Stacking and decomposition helpers over a filled cache (TransformerLens <c>ActivationCache</c> style).</summary>
public sealed partial class ActivationCache
{
    /// <summary>
    /// The residual stream entering every layer, stacked [L, B, T', D]; with <paramref name="includeFinal"/> the final
    /// resid_post is appended ([L+1, B, T', D]). Needs every <c>hook_resid_pre</c> (and the last <c>hook_resid_post</c>).
    /// </summary>
    public Tensor AccumulatedResidual(bool includeFinal)
    {
        var names = Enumerable.Range(0, Architecture.NumLayers).Select(HookNames.ResidPre).ToList();
        if (includeFinal) names.Add(HookNames.ResidPost(Architecture.NumLayers - 1));
        return Stack(names);
    }

    /// <summary>Every head's result, stacked [L, B, T', H, D]. Needs every <c>attn.hook_result</c> (an on-demand point).</summary>
    public Tensor StackedHeadResults() =>
        Stack(Enumerable.Range(0, Architecture.NumLayers).Select(HookNames.Result).ToList());

    /// <summary>
    /// Splits the final residual into its additive components (see <see cref="ResidualDecomposition"/>): the ln_pre output,
    /// then per layer the H head results, the attention bias (taken as attn_out − Σ_h result, i.e. b_O broadcast, so the
    /// parts sum to attn_out exactly) and the MLP output. Needs ln_pre, every hook_result, hook_attn_out and hook_mlp_out.
    /// </summary>
    public ResidualDecomposition Decompose()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var scope = NewDisposeScope();
        var names = new List<string> { ResidualDecomposition.EmbedName };
        var parts = new List<Tensor> { this[HookNames.LnPre].unsqueeze(0) };
        for (int l = 0; l < Architecture.NumLayers; l++)
        {
            var result = this[HookNames.Result(l)]; // [B,T',H,D]
            parts.Add(result.permute(2, 0, 1, 3));
            for (int h = 0; h < Architecture.NumHeads; h++) names.Add(ResidualDecomposition.HeadName(l, h));
            parts.Add((this[HookNames.AttnOut(l)] - result.sum(2)).unsqueeze(0));
            names.Add(ResidualDecomposition.AttnBiasName(l));
            parts.Add(this[HookNames.MlpOut(l)].unsqueeze(0));
            names.Add(ResidualDecomposition.MlpName(l));
        }
        var stacked = torch.cat(parts, 0).MoveToOuterDisposeScope();
        return new ResidualDecomposition(names, stacked);
    }

    /// <summary>
    /// Applies the model's read-out (final norm + projection) to the last axis of any stack from this cache, e.g.
    /// <c>ApplyReadout(AccumulatedResidual(true).select(2, 0), vit)</c> for the CLS row of every layer → [L+1, B, P].
    /// </summary>
    public static Tensor ApplyReadout(Tensor stack, IHookedVit model)
    {
        ArgumentNullException.ThrowIfNull(stack);
        ArgumentNullException.ThrowIfNull(model);
        return model.Readout(stack);
    }

    /// <summary>The index of a token position in this cache's token axis (the identity without a positions filter).</summary>
    /// <exception cref="ArgumentException">The position was filtered out.</exception>
    public int TokenIndex(int position)
    {
        if (Positions is null) return position;
        for (int i = 0; i < Positions.Count; i++) if (Positions[i] == position) return i;
        throw new ArgumentException($"Position {position} is not in this cache (kept: {string.Join(", ", Positions)}).", nameof(position));
    }

    private Tensor Stack(IReadOnlyList<string> names)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var tensors = names.Select(n => this[n]).ToList();
        return torch.stack(tensors, 0);
    }
}
