using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Analysis;

/// <summary>
/// Runs many head-ablation patterns at once: each pattern is a keep-mask [L, H]; the input batch is replicated per pattern
/// and one hook per layer mixes z with its replacement (zero, or a mean over reference images) row by row. Downstream
/// computation is normal (ablation, not patching).
/// </summary>
public static class HeadAblation
{
    /// <summary>Mean z per layer over a reference batch: [L, T, H, d_head], for mean ablation.</summary>
    public static torch.Tensor MeanZ(IHookedVit vit, torch.Tensor referencePixels)
    {
        var arch = vit.Architecture;
        using var scope = torch.NewDisposeScope();
        using var run = vit.RunWithCache(referencePixels, CacheRequest.ForNames(Enumerable.Range(0, arch.NumLayers).Select(HookNames.Z)));
        var means = Enumerable.Range(0, arch.NumLayers).Select(l => run.Cache[HookNames.Z(l)].mean(new long[] { 0 })).ToArray();
        return torch.stack(means, 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Output embeddings [R, B, P] for R keep-masks [R, L, H] (1 keeps a head, 0 ablates it) on B images.
    /// </summary>
    /// <param name="vit">Encoder.</param>
    /// <param name="pixels">[B, C, S, S].</param>
    /// <param name="keepMasks">[R, L, H].</param>
    /// <param name="meanZ">Replacement z [L, T, H, d_head] (mean ablation) or null for zero ablation.</param>
    /// <param name="maxRowsPerForward">Upper bound on R·B rows per forward (memory); null = <see cref="DefaultRowsPerForward"/>.</param>
    /// <param name="cancellationToken">Cancels between forwards.</param>
    public static torch.Tensor Run(IHookedVit vit, torch.Tensor pixels, torch.Tensor keepMasks, torch.Tensor? meanZ = null,
        int? maxRowsPerForward = null, CancellationToken cancellationToken = default)
    {
        var arch = vit.Architecture;
        if (keepMasks.ndim != 3 || keepMasks.shape[1] != arch.NumLayers || keepMasks.shape[2] != arch.NumHeads)
            throw new ArgumentException($"keep masks must be [R, {arch.NumLayers}, {arch.NumHeads}]; got [{string.Join(", ", keepMasks.shape)}].", nameof(keepMasks));
        long r = keepMasks.shape[0], b = pixels.shape[0];
        int patternsPerForward = (int)Math.Max(1, (maxRowsPerForward ?? DefaultRowsPerForward(arch)) / b);
        var outputs = new List<torch.Tensor>();
        using var scope = torch.NewDisposeScope();
        var masks = keepMasks.to(vit.DType).to(vit.Device);
        var mean = meanZ?.to(vit.DType).to(vit.Device);
        for (long start = 0; start < r; start += patternsPerForward)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Each forward's intermediates (replicated pixels, row masks, hooked z) die with it: only its [R', B, P]
            // output survives, so memory stays at one forward's worth however many patterns are run.
            using var perForward = torch.NewDisposeScope();
            long count = Math.Min(patternsPerForward, r - start);
            var chunk = masks.narrow(0, start, count);                             // [R', L, H]
            var rowMasks = chunk.repeat_interleave(b, dim: 0);                      // [R'·B, L, H], row = r·B + b
            var rowsPixels = pixels.repeat(count, 1, 1, 1);                         // same row order
            var hooks = new List<HookBinding>();
            for (int l = 0; l < arch.NumLayers; l++)
            {
                var keep = rowMasks.select(1, l);                                   // [R'·B, H]
                using var allKept = keep.eq(1).all();
                if (allKept.item<bool>()) continue;
                var keep4 = keep.unsqueeze(1).unsqueeze(-1);                        // [R'·B, 1, H, 1]
                var replacement = mean?.select(0, l).unsqueeze(0);                  // [1, T, H, d]
                hooks.Add(new HookBinding(HookNames.Z(l), (z, _) =>
                    replacement is null ? z * keep4 : z * keep4 + replacement * (1 - keep4)));
            }
            var output = hooks.Count == 0 ? vit.Forward(rowsPixels) : vit.RunWithHooks(rowsPixels, hooks);
            outputs.Add(output.view(count, b, -1).MoveToOuterDisposeScope());
        }
        return torch.cat(outputs, 0).MoveToOuterDisposeScope();
    }

    /// <summary>Byte budget of the largest intermediate of one forward (the attention scores [rows, H, T, T]).</summary>
    private const long ScoreBytesPerForward = 24L << 20;

    /// <summary>
    /// Rows per forward so that the attention scores of one layer stay under 24 MB. Many small forwards beat few big
    /// ones on the CPU: glibc serves blocks under its 32 MB mmap ceiling from the reused heap, while bigger blocks are
    /// mapped and faulted in afresh on every layer (measured on the 8×12 testbed, 32 px: 1,024 rows per forward spent
    /// a third of the wall time in page faults and peaked at 10 GB).
    /// </summary>
    internal static int DefaultRowsPerForward(VitArchitecture arch)
    {
        long perRow = 4L * arch.NumHeads * arch.NumTokens * arch.NumTokens;
        return (int)Math.Clamp(ScoreBytesPerForward / Math.Max(1, perRow), 1, 4096);
    }

    /// <summary>R = L·H masks [R, L, H] (float32), each ablating exactly one head (layer-major).</summary>
    public static torch.Tensor SingleHeadMasks(VitArchitecture arch)
    {
        ArgumentNullException.ThrowIfNull(arch);
        return KeepMasks.Ablating(Enumerable.Range(0, arch.NumLayers * arch.NumHeads).Select(h => new[] { h }), arch);
    }
}
