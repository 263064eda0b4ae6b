using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Analysis;

/// <summary>A head's score and its rank (1 = highest) within one ranking.</summary>
/// <param name="Head">The head.</param>
/// <param name="Score">The score (higher ranks first).</param>
/// <param name="Rank">1-based rank.</param>
public sealed record HeadScore(HeadTarget Head, double Score, int Rank)
{
    /// <summary>Label like <c>L3H1</c>.</summary>
    public string Label => Head.Label;

    /// <summary>Ranks a layer-major score array [L·H] (ties keep layer-major order).</summary>
    public static IReadOnlyList<HeadScore> RankAll(IReadOnlyList<double> scores, int numHeads)
    {
        if (numHeads <= 0 || scores.Count % numHeads != 0)
            throw new ArgumentException($"{scores.Count} scores do not split into rows of {numHeads} heads.", nameof(scores));
        return Order(scores).Select((i, rank) => new HeadScore(HeadTarget.FromIndex(i, numHeads), scores[i], rank + 1)).ToArray();
    }

    /// <summary>1-based rank of every score (1 = highest; ties keep index order), in the scores' own order.</summary>
    internal static int[] RanksOf(IReadOnlyList<double> scores)
    {
        var ranks = new int[scores.Count];
        var order = Order(scores);
        for (int r = 0; r < order.Length; r++) ranks[order[r]] = r + 1;
        return ranks;
    }

    private static int[] Order(IReadOnlyList<double> scores) =>
        Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
}
