using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Synthetic;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>
/// The planted testbed's head roles (recipe "planted", <c>--plant 1</c>), fixed before training and documented in
/// docs/toy-model.md §9. The roles are planted by the training objective and by weight constraints, not by an
/// inference-time mask (the HF class has none), and each is measured on the trained model before any lens is scored:
/// <list type="bullet">
/// <item><b>Mark readers</b>: only the listed heads may attend to a mark's patches (key positions); every other head's
/// attention mass on them is penalised (<see cref="LeakPenalty"/>, ramped in by <see cref="LeakRamp"/>), and each
/// reader's CLS query is pulled onto its mark (<see cref="ReaderPenalty"/>). A ViT's patch embedding and MLPs are per position, so a mark's information can
/// leave its patches only through attention: through the readers.</item>
/// <item><b>Redundant pair</b> (bar): two readers, and on every training image one of them (or neither) is silenced
/// (its <c>z</c> set to 0), so each alone must carry the bar.</item>
/// <item><b>Indirect-only</b> (cross reader L2H4): after every step its out-projection columns are projected onto the
/// null space of the read-out's linear part (projection · diag(γ) · centring), so its write has no direct linear effect
/// on <c>image_embeds</c>; the cross must be relayed by later heads.</item>
/// <item><b>Dead</b> (L4H0): out-projection columns held at 0; it writes nothing.</item>
/// </list>
/// </summary>
internal static class PlantedRoles
{
    public static readonly IReadOnlyDictionary<MarkKind, (int Layer, int Head)[]> Readers = new Dictionary<MarkKind, (int, int)[]>
    {
        [MarkKind.Dots] = new[] { (7, 3) },
        [MarkKind.Stripes] = new[] { (5, 8) },
        [MarkKind.Cross] = new[] { (2, 4) },
        [MarkKind.Bar] = new[] { (3, 1), (6, 10) },
    };

    public static readonly (int Layer, int Head) IndirectOnly = (2, 4);
    public static readonly (int Layer, int Head) Dead = (4, 0);
    public static (int Layer, int Head)[] RedundantPair => Readers[MarkKind.Bar];

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(MarkKind, int, int), long[]> TokenCache = new();

    /// <summary>Token indices (CLS = 0, patches row-major from 1) of the patches a mark's pixels fall in (computed once;
    /// the penalties ask for them every training step).</summary>
    public static long[] MarkTokens(MarkKind kind, int imageSize, int patchSize) =>
        TokenCache.GetOrAdd((kind, imageSize, patchSize), key => ComputeMarkTokens(key.Item1, key.Item2, key.Item3));

    private static long[] ComputeMarkTokens(MarkKind kind, int imageSize, int patchSize)
    {
        using var mask = MarkedShapeDomain.MarkMask(kind);
        var m = mask.data<float>().ToArray();
        int grid = imageSize / patchSize;
        var tokens = new SortedSet<long>();
        for (int r = 0; r < imageSize; r++)
            for (int c = 0; c < imageSize; c++)
                if (m[r * imageSize + c] > 0) tokens.Add(1 + (r / patchSize) * grid + c / patchSize);
        return tokens.ToArray();
    }

    /// <summary>
    /// Hooks for one training forward: captures every layer's attention pattern (with its graph) into
    /// <paramref name="patterns"/>, and silences one head of the redundant pair per image (choice[i]: 0 = the first,
    /// 1 = the second, 2 = neither).
    /// </summary>
    public static List<HookBinding> TrainingHooks(int layers, Tensor[] patterns, int[] choice, int heads)
    {
        var hooks = new List<HookBinding>();
        for (int l = 0; l < layers; l++)
        {
            int layer = l;
            hooks.Add(new HookBinding(HookNames.Pattern(layer), (a, _) => { patterns[layer] = a; return a; }));
        }
        for (int p = 0; p < RedundantPair.Length; p++)
        {
            int which = p;
            var (layer, head) = RedundantPair[p];
            hooks.Add(new HookBinding(HookNames.Z(layer), (z, _) =>
            {
                var keep = ones(z.shape[0], 1, heads, 1, dtype: z.dtype, device: z.device);
                for (int i = 0; i < choice.Length; i++)
                    if (choice[i] == which) keep[i, 0, head, 0] = 0f;
                return z * keep;
            }));
        }
        return hooks;
    }

    /// <summary>Per image, which pair head is silenced (step-seeded, so a resumed run draws the same).</summary>
    public static int[] PairChoice(int batch, int step)
    {
        var rng = new Random(unchecked(7_000_003 + step));
        return Enumerable.Range(0, batch).Select(_ => rng.Next(3)).ToArray();
    }

    /// <summary>
    /// Attention mass that non-readers put on each mark's patches: per layer, per (image, query) summed over the mark's
    /// keys, <b>summed over queries</b> and averaged over images, summed over the non-reader heads and the marks, divided
    /// by the number of heads — 0 when the plant holds exactly. Summing over queries (v3) makes one query that reads a
    /// mark fully cost as much as every query attending to it uniformly: with the mean over queries (v2), a non-reader
    /// that read the cross or the bar from the CLS query alone paid 1/65 of that, and two such heads took over both marks.
    /// </summary>
    public static Tensor LeakPenalty(IReadOnlyList<Tensor> patterns, int imageSize, int patchSize, int heads)
    {
        Tensor? total = null;
        int layers = patterns.Count;
        foreach (var (kind, readers) in Readers)
        {
            var keys = tensor(MarkTokens(kind, imageSize, patchSize), dtype: ScalarType.Int64);
            for (int l = 0; l < layers; l++)
            {
                var allowed = new float[heads];
                Array.Fill(allowed, 1f);
                foreach (var (rl, rh) in readers) if (rl == l) allowed[rh] = 0f;
                var weight = tensor(allowed).view(1, heads, 1);
                var mass = patterns[l].index_select(3, keys).sum(-1).sum(-1);         // [B, H]: Σ over queries
                var term = (mass * weight.view(1, heads)).sum(1).mean();
                total = total is null ? term : total + term;
            }
        }
        return total! / (layers * heads);
    }

    /// <summary>
    /// Reader objective: −log of the attention mass each reader's CLS query puts on its mark's patches, averaged over
    /// readers and images. Without it the leak penalty is cheapest to satisfy by moving every head's attention off the
    /// mark positions (v1 did: readers ended at 7·10⁻⁵ and every mark at chance), so nothing ever learns to read a mark.
    /// </summary>
    public static Tensor ReaderPenalty(IReadOnlyList<Tensor> patterns, int imageSize, int patchSize)
    {
        Tensor? total = null;
        int n = 0;
        foreach (var (kind, readers) in Readers)
        {
            var keys = tensor(MarkTokens(kind, imageSize, patchSize), dtype: ScalarType.Int64);
            foreach (var (l, h) in readers)
            {
                var mass = patterns[l][.., h, 0].index_select(1, keys).sum(-1);   // [B]: CLS query → mark keys
                var term = -(mass + 1e-6).log().mean();
                total = total is null ? term : total + term;
                n++;
            }
        }
        return total! / n;
    }

    /// <summary>
    /// Leak-penalty ramp by step: off while the readers learn to read (steps &lt; 200), then linear to full weight at
    /// step 500 — driven by step so a resumed run continues bit for bit.
    /// </summary>
    public static double LeakRamp(int step) => step < 200 ? 0 : Math.Min(1.0, (step - 200) / 300.0);

    /// <summary>
    /// Per head and mark, the attention mass on the mark's patches [marks][L, H], from one forward: mean over images and
    /// queries, and of the CLS query alone — where the read-out reads from.
    /// </summary>
    public static (Dictionary<MarkKind, float[]> Mean, Dictionary<MarkKind, float[]> Cls) LeakTables(ClipVisionModelWithProjection model, Tensor pixels)
    {
        var arch = model.Architecture;
        var patterns = new Tensor[arch.NumLayers];
        var hooks = Enumerable.Range(0, arch.NumLayers)
            .Select(l => new HookBinding(HookNames.Pattern(l), (a, _) => { patterns[l] = a.detach().clone(); return a; })).ToList();
        using var scope = NewDisposeScope();
        using (no_grad()) model.ForwardTrainable(pixels, hooks);
        var mean = new Dictionary<MarkKind, float[]>();
        var cls = new Dictionary<MarkKind, float[]>();
        foreach (var kind in Readers.Keys)
        {
            var keys = tensor(MarkTokens(kind, arch.ImageSize, model.Config.PatchSize), dtype: ScalarType.Int64);
            var mass = stack(patterns.Select(p => p.index_select(3, keys).sum(-1)).ToArray());      // [L, B, H, T]
            mean[kind] = mass.mean(new long[] { 1, 3 }).contiguous().data<float>().ToArray();         // [L, H]
            cls[kind] = mass[.., .., .., 0].mean(new long[] { 1 }).contiguous().data<float>().ToArray();
        }
        return (mean, cls);
    }

    /// <summary>Holds the dead head at zero and the indirect-only head in the read-out's null space (after every step).</summary>
    public static void Constrain(ClipVisionModelWithProjection model)
    {
        int headDim = model.Config.HiddenSize / model.Config.NumAttentionHeads;
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var dead = p[$"vision_model.encoder.layers.{Dead.Layer}.self_attn.out_proj.weight"];
        dead[.., (Dead.Head * headDim)..((Dead.Head + 1) * headDim)] = 0f;

        int d = model.Config.HiddenSize;
        var a = ReadoutLinearPart(p, d);                                                // [P, D]
        var nullProjector = eye(d, dtype: ScalarType.Float64) - linalg.pinv(a).matmul(a);  // [D, D]
        var w = p[$"vision_model.encoder.layers.{IndirectOnly.Layer}.self_attn.out_proj.weight"];
        var cols = w[.., (IndirectOnly.Head * headDim)..((IndirectOnly.Head + 1) * headDim)];
        w[.., (IndirectOnly.Head * headDim)..((IndirectOnly.Head + 1) * headDim)] = nullProjector.matmul(cols.to(ScalarType.Float64)).to(w.dtype);
    }

    /// <summary>‖A · W_O,h‖ / ‖W_O,h‖ for the indirect-only head: 0 when its write is invisible to the read-out's linear part.</summary>
    public static double IndirectDirectRatio(ClipVisionModelWithProjection model)
    {
        int headDim = model.Config.HiddenSize / model.Config.NumAttentionHeads, d = model.Config.HiddenSize;
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var a = ReadoutLinearPart(p, d);
        var cols = p[$"vision_model.encoder.layers.{IndirectOnly.Layer}.self_attn.out_proj.weight"][.., (IndirectOnly.Head * headDim)..((IndirectOnly.Head + 1) * headDim)].to(ScalarType.Float64);
        return a.matmul(cols).norm().item<double>() / Math.Max(1e-300, cols.norm().item<double>());
    }

    /// <summary>
    /// Linear part of the read-out, proj · diag(γ) · (I − 11ᵀ/D) [P, D] in float64: its null space is what the output
    /// cannot see directly (the final LayerNorm's division by the norm is the only non-linear part left).
    /// </summary>
    private static Tensor ReadoutLinearPart(IReadOnlyDictionary<string, TorchSharp.Modules.Parameter> p, int d)
    {
        var proj = p["visual_projection.weight"].to(ScalarType.Float64);
        var gamma = p["vision_model.post_layernorm.weight"].to(ScalarType.Float64);
        var centre = eye(d, dtype: ScalarType.Float64) - full(d, d, 1.0 / d, dtype: ScalarType.Float64);
        return proj.matmul(diag(gamma)).matmul(centre);
    }
}
