namespace DiffusionSteeringLens.Analysis;

/// <summary>A head's score and its rank (1 = highest) within one ranking.</summary>
/// <param name="Layer">Layer.</param>
/// <param name="Head">Head.</param>
/// <param name="Score">The score (higher ranks first).</param>
/// <param name="Rank">1-based rank.</param>
public sealed record HeadScore(int Layer, int Head, double Score, int Rank)
{
    /// <summary>Label like <c>L3H1</c>.</summary>
    public string Label => $"L{Layer}H{Head}";

    /// <summary>Ranks a layer-major score array [L·H] (ties keep layer-major order).</summary>
    public static IReadOnlyList<HeadScore> RankAll(IReadOnlyList<double> scores, int numHeads)
    {
        if (numHeads <= 0 || scores.Count % numHeads != 0)
            throw new ArgumentException($"{scores.Count} scores do not split into rows of {numHeads} heads.", nameof(scores));
        return scores.Select((s, i) => (s, i))
            .OrderByDescending(x => x.s).ThenBy(x => x.i)
            .Select((x, rank) => new HeadScore(x.i / numHeads, x.i % numHeads, x.s, rank + 1))
            .ToArray();
    }
}
