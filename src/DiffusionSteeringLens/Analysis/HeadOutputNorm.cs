using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Analysis;

/// <summary>
/// The output-norm baseline: the norm of each head's write into the residual stream at the CLS position (what the
/// output embedding is read from). On small models ablation importance is largely output norm, so every lens is
/// reported next to this lens-free baseline.
/// </summary>
internal static class HeadOutputNorm
{
    /// <summary>Norms [B][L·H] (layer-major) of every head's CLS write for each image.</summary>
    public static double[][] Compute(IHookedVit vit, torch.Tensor pixels, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var scope = torch.NewDisposeScope();
        return Rows(ClsWrites(vit, pixels).norm(-1));
    }

    /// <summary>Norms [B, L·H] as one array per image, in float64.</summary>
    internal static double[][] Rows(torch.Tensor norms)
    {
        using var scope = torch.NewDisposeScope();
        var host = norms.to(torch.float64).cpu();
        return Enumerable.Range(0, (int)host.shape[0]).Select(b => host[b].data<double>().ToArray()).ToArray();
    }

    /// <summary>Every head's write at the CLS position, [B, L·H, D] (layer-major), from one cached forward.</summary>
    internal static torch.Tensor ClsWrites(IHookedVit vit, torch.Tensor pixels)
    {
        var arch = vit.Architecture;
        using var scope = torch.NewDisposeScope();
        var names = Enumerable.Range(0, arch.NumLayers).Select(HookNames.Result).ToArray();
        using var run = vit.RunWithCache(pixels, CacheRequest.ForNames(names, new[] { arch.ClsIndex }));
        return torch.cat(names.Select(n => run.Cache[n].select(1, 0)).ToArray(), 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Heads whose mean CLS write is below <paramref name="relativeThreshold"/> × the median head's: they write
    /// (almost) nothing, so a lens that scores "the read-out still looks like the input" would call them faithful.
    /// </summary>
    public static IReadOnlyList<int> SilentHeads(double[][] norms, double relativeThreshold = 1e-3)
    {
        int n = norms[0].Length;
        var mean = Enumerable.Range(0, n).Select(h => norms.Average(r => r[h])).ToArray();
        var sorted = mean.OrderBy(v => v).ToArray();
        double median = sorted[n / 2];
        return Enumerable.Range(0, n).Where(h => mean[h] < relativeThreshold * median).ToArray();
    }
}
