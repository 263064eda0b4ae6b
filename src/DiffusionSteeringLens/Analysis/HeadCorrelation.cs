namespace DiffusionSteeringLens.Analysis;

/// <summary>
/// The primary statistic of the validation protocol: head-level Spearman ρ between the image-averaged lens score and the
/// image-averaged ablation importance of every head. The heads are the sample (they are what is ranked), so p comes from
/// permuting head labels and the 95 % CI from a two-way bootstrap that resamples both images and heads.
/// </summary>
public static class HeadCorrelation
{
    /// <summary>Default number of head-label permutations.</summary>
    public const int DefaultPermutations = 10_000;

    /// <summary>Default number of bootstrap resamples.</summary>
    public const int DefaultBootstrap = 2_000;

    /// <summary>ρ, permutation p-values and bootstrap CI of one lens.</summary>
    /// <param name="scores">Lens scores [images][heads] (higher = the lens calls the head more relevant).</param>
    /// <param name="importance">Ablation importance [images][heads], same images and head order.</param>
    /// <param name="permutations">Head-label permutations (≥ 10⁴ for the protocol).</param>
    /// <param name="bootstrap">Two-way bootstrap resamples.</param>
    /// <param name="seed">Seed of both resampling schemes.</param>
    public static HeadCorrelationResult Compute(IReadOnlyList<IReadOnlyList<double>> scores, IReadOnlyList<IReadOnlyList<double>> importance,
        int permutations = DefaultPermutations, int bootstrap = DefaultBootstrap, int seed = 0)
    {
        var (s, imp) = Check(scores, importance);
        int b = s.Length, n = s[0].Length;
        double rho = SpearmanCorrelation.Rho(ColumnMeans(s, null), ColumnMeans(imp, null));
        var (pOne, pTwo) = PermutationP(ColumnMeans(s, null), ColumnMeans(imp, null), rho, permutations, seed);
        var boot = Bootstrap(b, n, bootstrap, seed, (images, heads) => new[] { RhoOn(s, imp, images, heads) });
        var (lo, hi) = Interval(boot.Select(x => x[0]));
        return new HeadCorrelationResult(rho, pOne, pTwo, lo, hi, b, n, permutations, bootstrap);
    }

    /// <summary>
    /// Paired difference ρ_a − ρ_b of two lenses scored on the same images and heads, with a two-way bootstrap CI (the
    /// same resample for both lenses, so their shared noise cancels) and a one-sided bootstrap p for Δρ ≤ 0.
    /// </summary>
    public static RhoDifference Difference(IReadOnlyList<IReadOnlyList<double>> scoresA, IReadOnlyList<IReadOnlyList<double>> scoresB,
        IReadOnlyList<IReadOnlyList<double>> importance, int bootstrap = DefaultBootstrap, int seed = 0)
    {
        var (a, imp) = Check(scoresA, importance);
        var (bScores, _) = Check(scoresB, importance);
        int b = a.Length, n = a[0].Length;
        var meanImp = ColumnMeans(imp, null);
        double delta = SpearmanCorrelation.Rho(ColumnMeans(a, null), meanImp) - SpearmanCorrelation.Rho(ColumnMeans(bScores, null), meanImp);
        var boot = Bootstrap(b, n, bootstrap, seed, (images, heads) => new[] { RhoOn(a, imp, images, heads) - RhoOn(bScores, imp, images, heads) })
            .Select(x => x[0]).Where(v => !double.IsNaN(v)).ToArray();
        var (lo, hi) = Interval(boot);
        double p = boot.Length == 0 ? double.NaN : (1.0 + boot.Count(v => v <= 0)) / (1.0 + boot.Length);
        return new RhoDifference(delta, lo, hi, p, b, n, bootstrap);
    }

    private static (double[][] Scores, double[][] Importance) Check(IReadOnlyList<IReadOnlyList<double>> scores, IReadOnlyList<IReadOnlyList<double>> importance)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(importance);
        if (scores.Count == 0 || scores.Count != importance.Count)
            throw new ArgumentException($"scores cover {scores.Count} images and importance {importance.Count}; need the same, non-zero number.");
        int n = scores[0].Count;
        if (n < 3) throw new ArgumentException($"need at least 3 heads to correlate (got {n}).");
        if (scores.Concat(importance).Any(r => r.Count != n))
            throw new ArgumentException($"every image must have the same {n} heads in scores and importance.");
        return (scores.Select(r => r.ToArray()).ToArray(), importance.Select(r => r.ToArray()).ToArray());
    }

    /// <summary>Mean over the chosen images (all when null) of each head column.</summary>
    private static double[] ColumnMeans(double[][] m, int[]? images)
    {
        int n = m[0].Length;
        var rows = images ?? Enumerable.Range(0, m.Length).ToArray();
        var mean = new double[n];
        foreach (int i in rows)
            for (int h = 0; h < n; h++) mean[h] += m[i][h];
        for (int h = 0; h < n; h++) mean[h] /= rows.Length;
        return mean;
    }

    private static double RhoOn(double[][] scores, double[][] importance, int[] images, int[] heads)
    {
        var s = ColumnMeans(scores, images);
        var imp = ColumnMeans(importance, images);
        return SpearmanCorrelation.Rho(heads.Select(h => s[h]).ToArray(), heads.Select(h => imp[h]).ToArray());
    }

    private static (double OneSided, double TwoSided) PermutationP(double[] x, double[] y, double observed, int permutations, int seed)
    {
        if (permutations < 1) throw new ArgumentOutOfRangeException(nameof(permutations), "need at least one permutation.");
        if (double.IsNaN(observed)) return (1.0, 1.0);
        var rx = SpearmanCorrelation.Ranks(x);
        var ry = SpearmanCorrelation.Ranks(y);
        var shuffled = (double[])ry.Clone();
        var rng = new Random(seed);
        int above = 0, extreme = 0;
        for (int p = 0; p < permutations; p++)
        {
            rng.Shuffle(shuffled);
            double r = SpearmanCorrelation.Pearson(rx, shuffled);
            if (r >= observed - 1e-12) above++;
            if (Math.Abs(r) >= Math.Abs(observed) - 1e-12) extreme++;
        }
        return ((1.0 + above) / (1.0 + permutations), (1.0 + extreme) / (1.0 + permutations));
    }

    /// <summary>Two-way bootstrap: each resample draws images and heads with replacement (fixed seed).</summary>
    private static List<double[]> Bootstrap(int images, int heads, int resamples, int seed, Func<int[], int[], double[]> statistic)
    {
        if (resamples < 1) throw new ArgumentOutOfRangeException(nameof(resamples), "need at least one bootstrap resample.");
        var rng = new Random(unchecked(seed * 7919 + 17));
        var results = new List<double[]>(resamples);
        var im = new int[images];
        var hd = new int[heads];
        for (int r = 0; r < resamples; r++)
        {
            for (int i = 0; i < images; i++) im[i] = rng.Next(images);
            for (int h = 0; h < heads; h++) hd[h] = rng.Next(heads);
            results.Add(statistic(im, hd));
        }
        return results;
    }

    /// <summary>Percentile 95 % interval, ignoring resamples where ρ is undefined (all resampled heads tied).</summary>
    private static (double Low, double High) Interval(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).OrderBy(v => v).ToArray();
        if (sorted.Length == 0) return (double.NaN, double.NaN);
        double At(double q) => sorted[Math.Clamp((int)Math.Floor(q * (sorted.Length - 1) + 0.5), 0, sorted.Length - 1)];
        return (At(0.025), At(0.975));
    }
}

/// <summary>Head-level Spearman correlation of one lens with ablation importance.</summary>
/// <param name="Rho">ρ between image-averaged scores and image-averaged importance over the heads.</param>
/// <param name="PValueOneSided">Permutation p for ρ &gt; 0 (the lens ranks important heads first — the success direction).</param>
/// <param name="PValueTwoSided">Permutation p for |ρ|.</param>
/// <param name="CiLow">Lower end of the two-way bootstrap 95 % CI.</param>
/// <param name="CiHigh">Upper end of the CI.</param>
/// <param name="Images">Images averaged over.</param>
/// <param name="Heads">Heads correlated.</param>
/// <param name="Permutations">Head-label permutations drawn.</param>
/// <param name="Bootstrap">Bootstrap resamples drawn.</param>
public sealed record HeadCorrelationResult(double Rho, double PValueOneSided, double PValueTwoSided, double CiLow, double CiHigh,
    int Images, int Heads, int Permutations, int Bootstrap);

/// <summary>Paired difference of two lenses' head-level ρ with ablation importance.</summary>
/// <param name="Delta">ρ_a − ρ_b.</param>
/// <param name="CiLow">Lower end of the two-way bootstrap 95 % CI.</param>
/// <param name="CiHigh">Upper end of the CI.</param>
/// <param name="PValueOneSided">Bootstrap p for Δρ ≤ 0 (lens a no better than lens b).</param>
/// <param name="Images">Images.</param>
/// <param name="Heads">Heads.</param>
/// <param name="Bootstrap">Resamples.</param>
public sealed record RhoDifference(double Delta, double CiLow, double CiHigh, double PValueOneSided, int Images, int Heads, int Bootstrap);
