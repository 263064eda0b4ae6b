using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>Batched gathers shared by the lenses: the CLS-row value of every target from one cached run.</summary>
internal static class LensReadouts
{
    /// <summary>Hook names a set of targets needs, plus the final residual.</summary>
    public static IEnumerable<string> NamesFor(IEnumerable<LensTarget> targets, VitArchitecture arch) =>
        targets.Select(t => t.HookName).Append(HookNames.ResidPost(arch.NumLayers - 1)).Distinct();

    /// <summary>
    /// Stacks the value of each target at the single cached position into [B, N, D]. The cache must have been recorded
    /// with a one-position filter.
    /// </summary>
    public static torch.Tensor Gather(ActivationCache cache, IReadOnlyList<LensTarget> targets)
    {
        using var scope = torch.NewDisposeScope();
        // Group by hook point so every head of a layer is taken with one index_select.
        var columns = new torch.Tensor[targets.Count];
        foreach (var group in targets.Select((t, i) => (t, i)).GroupBy(x => x.t.HookName))
        {
            var act = cache[group.Key];
            var first = group.First().t;
            if (first is HeadTarget)
            {
                var perHead = act.select(1, 0); // [B, H, D]
                var heads = group.Select(x => (long)((HeadTarget)x.t).Head).ToArray();
                using var idx = torch.tensor(heads, device: perHead.device);
                var chosen = perHead.index_select(1, idx); // [B, n, D]
                int k = 0;
                foreach (var (_, i) in group) columns[i] = chosen.select(1, k++);
            }
            else
            {
                var row = act.select(1, 0); // [B, D]
                foreach (var (_, i) in group) columns[i] = row;
            }
        }
        return torch.stack(columns, 1).MoveToOuterDisposeScope();
    }

    /// <summary>The head-result hook of every layer.</summary>
    public static IEnumerable<string> AllResultNames(VitArchitecture arch) => Enumerable.Range(0, arch.NumLayers).Select(HookNames.Result);

    /// <summary>
    /// ν: the mean norm of every head's write at the single cached position, over all heads of the model → [B, 1]. The
    /// cache must hold <see cref="AllResultNames"/> with a one-position filter.
    /// </summary>
    public static torch.Tensor MeanHeadWriteNorm(ActivationCache cache, VitArchitecture arch)
    {
        using var scope = torch.NewDisposeScope();
        var norms = torch.cat(AllResultNames(arch).Select(n => cache[n].select(1, 0).norm(-1)).ToArray(), 1); // [B, L·H]
        return norms.mean(new long[] { -1 }, keepdim: true).MoveToOuterDisposeScope();
    }

    /// <summary>Validates a pixel batch against the encoder's input size.</summary>
    public static void CheckPixels(torch.Tensor pixels, VitArchitecture arch)
    {
        if (pixels.ndim != 4 || pixels.shape[2] != arch.ImageSize || pixels.shape[3] != arch.ImageSize)
            throw new ArgumentException(
                $"pixel_values must be [B, C, {arch.ImageSize}, {arch.ImageSize}] (preprocessed); got [{string.Join(", ", pixels.shape)}].", nameof(pixels));
    }
}
