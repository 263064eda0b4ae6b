namespace DiffusionSteeringLens.Analysis;

/// <summary>
/// The Wilson score interval of a binomial proportion: unlike the normal (Wald) interval it stays inside [0, 1] and
/// keeps its coverage when the proportion is near 0 or 1 — which removal rates often are.
/// </summary>
internal static class WilsonInterval
{
    /// <summary>Two-sided interval for <paramref name="successes"/> out of <paramref name="trials"/> at normal quantile <paramref name="z"/> (1.96 → 95 %).</summary>
    /// <exception cref="ArgumentOutOfRangeException">trials &lt; 1 or successes outside 0..trials.</exception>
    public static (double Low, double High) Compute(int successes, int trials, double z = 1.96)
    {
        if (trials < 1) throw new ArgumentOutOfRangeException(nameof(trials), trials, "need at least one trial.");
        if (successes < 0 || successes > trials) throw new ArgumentOutOfRangeException(nameof(successes), successes, $"must lie in 0..{trials}.");
        double n = trials, p = successes / n, z2 = z * z;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = z / (1 + z2 / n) * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        // At p = 0 or 1 the bound that coincides with p is exact; clamp the rounding residue.
        return (successes == 0 ? 0 : Math.Max(0, centre - half), successes == trials ? 1 : Math.Min(1, centre + half));
    }
}
