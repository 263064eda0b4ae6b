namespace DiffusionSteeringLens.Analysis;

/// <summary>
/// One statistic pooled over independently trained models (seeds of one recipe): the mean, its between-model standard
/// error and a Student-t 95 % interval. The model is the unit here — images and heads were already averaged inside each
/// model's own estimate — so with three seeds the interval has 2 degrees of freedom and is wide on purpose.
/// </summary>
/// <param name="Mean">Mean over models.</param>
/// <param name="StandardError">Sample standard deviation over models / √m (NaN for one model).</param>
/// <param name="Low">Lower end of the 95 % t interval (NaN for one model).</param>
/// <param name="High">Upper end (NaN for one model).</param>
/// <param name="Values">The per-model values, in input order.</param>
public sealed record PooledEstimate(double Mean, double StandardError, double Low, double High, IReadOnlyList<double> Values)
{
    /// <summary>Number of models pooled.</summary>
    public int Models => Values.Count;

    // Two-sided 95 % Student-t quantiles t(0.975, df) for df = 1 … 30 (standard table values); beyond 30 the normal 1.96
    // is within 2 % of t.
    private static readonly double[] T975 =
    {
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    };

    /// <summary>The 0.975 quantile of Student's t with <paramref name="degreesOfFreedom"/> ≥ 1.</summary>
    internal static double TQuantile975(int degreesOfFreedom)
    {
        if (degreesOfFreedom < 1) throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, "need at least 1 degree of freedom.");
        return degreesOfFreedom <= T975.Length ? T975[degreesOfFreedom - 1] : 1.96;
    }

    /// <summary>Pools finite per-model values.</summary>
    /// <exception cref="ArgumentException">No values, or a value that is not finite (a failed model must be named, not averaged in).</exception>
    public static PooledEstimate Pool(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("nothing to pool: no per-model values.", nameof(values));
        for (int i = 0; i < values.Count; i++)
            if (!double.IsFinite(values[i])) throw new ArgumentException($"model {i + 1}'s value is {values[i]}; pool only finite estimates.", nameof(values));
        double mean = values.Average();
        if (values.Count == 1) return new PooledEstimate(mean, double.NaN, double.NaN, double.NaN, values.ToArray());
        double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        double se = sd / Math.Sqrt(values.Count);
        double t = TQuantile975(values.Count - 1);
        return new PooledEstimate(mean, se, mean - t * se, mean + t * se, values.ToArray());
    }
}
