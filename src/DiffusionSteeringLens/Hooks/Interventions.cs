using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Hooks;

/// <summary>
/// Factories for common interventions as <see cref="HookBinding"/>s. Bindings compose: pass several in one list (those on
/// the same point apply in list order).
/// </summary>
/// <remarks>
/// Batch semantics: every binding treats the batch rows [B] independently and applies the same edit to each row; a
/// supplied source/mean/vector either has no batch axis (shared by all rows) or, where stated, one row per batch item.
/// Positions: token positions to edit (on the token axis; the query axis for <c>hook_pattern</c>); null edits all tokens.
/// Points without a token axis (<c>ln_final</c>, <c>hook_image_embeds</c>) take null only. Functions never modify their
/// input; they return a new tensor.
/// </remarks>
public static class Interventions
{
    /// <summary>Zeroes one head's output (at <see cref="HeadSite.Z"/> or <see cref="HeadSite.Result"/>).</summary>
    public static HookBinding ZeroAblateHead(int layer, int head, IReadOnlyList<int>? positions = null, HeadSite site = HeadSite.Z)
    {
        var name = HeadPoint(layer, site);
        return new HookBinding(name, (x, _) => EditHead(x, head, positions, rows => torch.zeros_like(rows)));
    }

    /// <summary>
    /// Replaces one head's output by a mean, typically <see cref="MeanOverBatch"/> of a reference set's cache at the same
    /// point. <paramref name="mean"/> is the whole point's mean without the batch axis — [T, H, w] (per token) or [H, w]
    /// (token-independent), w = d_head for Z, D for Result — or already the head's slice ([T, w] or [w]) when
    /// <paramref name="meanIsHeadSlice"/>. A per-token mean must cover all T tokens.
    /// </summary>
    public static HookBinding MeanAblateHead(int layer, int head, Tensor mean, IReadOnlyList<int>? positions = null,
        HeadSite site = HeadSite.Z, bool meanIsHeadSlice = false)
    {
        ArgumentNullException.ThrowIfNull(mean);
        var name = HeadPoint(layer, site);
        return new HookBinding(name, (x, _) =>
        {
            var m = meanIsHeadSlice ? mean : mean.select(-2, head); // [T, w] or [w]
            return EditHead(x, head, positions, rows => ExpandMean(m, rows, positions));
        });
    }

    /// <summary>Zeroes a layer's MLP output (<c>hook_mlp_out</c>).</summary>
    public static HookBinding ZeroAblateMlp(int layer, IReadOnlyList<int>? positions = null) =>
        new(HookNames.MlpOut(layer), (x, _) => EditRows(x, 1, positions, rows => torch.zeros_like(rows)));

    /// <summary>Replaces a layer's MLP output by a mean: [T, D] (per token, all T tokens) or [D].</summary>
    public static HookBinding MeanAblateMlp(int layer, Tensor mean, IReadOnlyList<int>? positions = null)
    {
        ArgumentNullException.ThrowIfNull(mean);
        return new HookBinding(HookNames.MlpOut(layer), (x, _) => EditRows(x, 1, positions, rows => ExpandMean(mean, rows, positions)));
    }

    /// <summary>
    /// Patches a point with the value another run produced there (e.g. <c>otherRun.Cache[name]</c>, cached without a
    /// positions filter). <paramref name="source"/> has the point's full shape with batch B (row i patches row i) or 1
    /// (shared). Only <paramref name="positions"/> are replaced; the tensor is read at call time, so keep it alive.
    /// </summary>
    public static HookBinding Patch(string hookName, Tensor source, IReadOnlyList<int>? positions = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(hookName);
        ArgumentNullException.ThrowIfNull(source);
        int? axis = HookPointLayout.TokenAxis(hookName);
        return new HookBinding(hookName, (x, _) =>
        {
            var src = source.to(x.dtype, x.device);
            if (positions is null) return src.expand(x.shape).clone();
            var rows = src.index_select(RequireAxis(axis, hookName), Index(positions, x.device));
            return EditRows(x, axis!.Value, positions, sel => rows.expand(sel.shape));
        });
    }

    /// <summary>
    /// Adds <paramref name="coefficient"/> × <paramref name="vector"/> at the chosen positions (steering). The vector
    /// broadcasts against the selected rows: [D] for a residual-width point, or [B, 1, D] for one vector per batch row.
    /// </summary>
    public static HookBinding AddVector(string hookName, Tensor vector, double coefficient = 1.0, IReadOnlyList<int>? positions = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(hookName);
        ArgumentNullException.ThrowIfNull(vector);
        int? axis = HookPointLayout.TokenAxis(hookName);
        return new HookBinding(hookName, (x, _) =>
            EditRows(x, axis, positions, hookName, rows => rows + vector.to(x.dtype, x.device) * coefficient));
    }

    /// <summary>Multiplies a point's value by <paramref name="alpha"/> at the chosen positions (α = 1 changes nothing).</summary>
    public static HookBinding Scale(string hookName, double alpha, IReadOnlyList<int>? positions = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(hookName);
        int? axis = HookPointLayout.TokenAxis(hookName);
        return new HookBinding(hookName, (x, _) => EditRows(x, axis, positions, hookName, rows => rows * alpha));
    }

    /// <summary>
    /// Scales one head's output by <paramref name="alpha"/> at the chosen positions (at Z or Result alike: the result is
    /// linear in z).
    /// </summary>
    public static HookBinding ScaleHead(int layer, int head, double alpha, IReadOnlyList<int>? positions = null, HeadSite site = HeadSite.Z) =>
        new(HeadPoint(layer, site), (x, _) => EditHead(x, head, positions, rows => rows * alpha));

    /// <summary>
    /// The batch mean of a cached point, the <c>mean</c> argument of the mean-ablation factories (e.g. over a reference
    /// set's run). The caller owns the result.
    /// </summary>
    public static Tensor MeanOverBatch(ActivationCache cache, string hookName)
    {
        ArgumentNullException.ThrowIfNull(cache);
        return cache[hookName].mean(new long[] { 0 });
    }

    private static string HeadPoint(int layer, HeadSite site) =>
        site == HeadSite.Z ? HookNames.Z(layer) : HookNames.Result(layer);

    /// <summary>Replaces head <paramref name="head"/>'s slice [B, T(sel), w] of a [B, T, H, w] point.</summary>
    private static Tensor EditHead(Tensor x, int head, IReadOnlyList<int>? positions, Func<Tensor, Tensor> edit)
    {
        if (x.dim() != 4 || head < 0 || head >= x.shape[2])
            throw new ArgumentException($"Head {head} does not exist in a per-head activation of shape [{string.Join(", ", x.shape)}].");
        var output = x.clone();
        var slice = output.select(2, head); // view [B, T, w]
        if (positions is null)
        {
            slice.copy_(edit(slice));
            return output;
        }
        var idx = Index(positions, x.device);
        slice.index_copy_(1, idx, edit(slice.index_select(1, idx)));
        return output;
    }

    private static Tensor EditRows(Tensor x, int? axis, IReadOnlyList<int>? positions, string hookName, Func<Tensor, Tensor> edit)
    {
        if (positions is null) return edit(x).expand(x.shape).clone();
        return EditRows(x, RequireAxis(axis, hookName), positions, edit);
    }

    private static Tensor EditRows(Tensor x, int axis, IReadOnlyList<int>? positions, Func<Tensor, Tensor> edit)
    {
        if (positions is null) return edit(x).expand(x.shape).clone();
        var idx = Index(positions, x.device);
        var rows = x.index_select(axis, idx);
        var edited = edit(rows).expand(rows.shape);
        return x.index_copy(axis, idx, edited.contiguous());
    }

    /// <summary>A mean ([T, …] per token or […] shared) broadcast to the selected rows [B, T(sel), …].</summary>
    private static Tensor ExpandMean(Tensor mean, Tensor rows, IReadOnlyList<int>? positions)
    {
        var m = mean.to(rows.dtype, rows.device);
        if (m.dim() == rows.dim() - 1 && positions != null) m = m.index_select(0, Index(positions, rows.device));
        return m.expand(rows.shape);
    }

    private static int RequireAxis(int? axis, string hookName) =>
        axis ?? throw new ArgumentException($"'{hookName}' has no token axis; pass positions = null.", nameof(hookName));

    private static Tensor Index(IReadOnlyList<int> positions, Device device) =>
        torch.tensor(positions.Select(p => (long)p).ToArray(), torch.int64, device);
}
