using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Analysis;

/// <summary>
/// The one builder of head keep-masks for <see cref="HeadAblation.Run"/>: one row of n = L·H float32 values per pattern,
/// layer-major (head index l·H + h), 1 = keep, 0 = ablate; as a tensor [patterns, L, H].
/// </summary>
internal static class KeepMasks
{
    /// <summary>One row per set: every head kept except those in the set (rows in the sets' order).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A head index outside [0, n).</exception>
    internal static float[] Values(IEnumerable<IEnumerable<int>> ablatedSets, int n)
    {
        ArgumentNullException.ThrowIfNull(ablatedSets);
        var sets = ablatedSets as IReadOnlyCollection<IEnumerable<int>> ?? ablatedSets.ToList();
        var values = new float[sets.Count * n];
        Array.Fill(values, 1f);
        int row = 0;
        foreach (var set in sets)
        {
            foreach (var head in set)
            {
                // Checked here: an index ≥ n would silently ablate a head of the next pattern.
                if ((uint)head >= (uint)n) throw new ArgumentOutOfRangeException(nameof(ablatedSets), head, $"head index must be in [0, {n}).");
                values[row * n + head] = 0f;
            }
            row++;
        }
        return values;
    }

    /// <summary>Mask values (a multiple of L·H) as a float32 tensor [patterns, L, H] that owns its storage (not a view).</summary>
    internal static torch.Tensor ToTensor(float[] values, VitArchitecture arch)
    {
        ArgumentNullException.ThrowIfNull(values);
        int n = arch.NumLayers * arch.NumHeads;
        if (values.Length % n != 0) throw new ArgumentException($"{values.Length} mask values are not a multiple of L·H = {n}.", nameof(values));
        return torch.tensor(values, new long[] { values.Length / n, arch.NumLayers, arch.NumHeads });
    }

    /// <summary><see cref="Values"/> of the sets as a tensor [sets, L, H] (see <see cref="ToTensor"/>).</summary>
    internal static torch.Tensor Ablating(IEnumerable<IEnumerable<int>> ablatedSets, VitArchitecture arch) =>
        ToTensor(Values(ablatedSets, arch.NumLayers * arch.NumHeads), arch);
}
