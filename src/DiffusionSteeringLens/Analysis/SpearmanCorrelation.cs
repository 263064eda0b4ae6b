namespace DiffusionSteeringLens.Analysis;

/// <summary>Spearman rank correlation (average ranks for ties) with a seeded permutation p-value.</summary>
public static class SpearmanCorrelation
{
    /// <summary>ρ between two equal-length samples; NaN when either is constant.</summary>
    public static double Rho(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException($"samples differ in length ({x.Count} vs {y.Count}).");
        if (x.Count < 2) throw new ArgumentException("need at least two pairs.");
        return Pearson(Ranks(x), Ranks(y));
    }

    /// <summary>
    /// Mean ρ over several paired samples (one pair per image, the same heads in every image) and a two-sided permutation
    /// p-value for that mean. The heads are shared by all images, so the exchangeable unit is the head label: each
    /// permutation relabels the heads of y once and applies that relabelling to every image. (Shuffling each image
    /// independently treats the images as independent evidence and gives p-values far too small.)
    /// p = (1 + #{|ρ̄_perm| ≥ |ρ̄|}) / (1 + permutations).
    /// </summary>
    public static CorrelationResult MeanRho(IReadOnlyList<IReadOnlyList<double>> xs, IReadOnlyList<IReadOnlyList<double>> ys,
        int permutations = 1000, int seed = 0)
    {
        if (xs.Count != ys.Count || xs.Count == 0) throw new ArgumentException("need the same, non-zero number of x and y samples.");
        int n = xs[0].Count;
        if (xs.Concat(ys).Any(v => v.Count != n)) throw new ArgumentException($"every sample must have the same {n} heads.");
        var rx = xs.Select(Ranks).ToArray();
        var ry = ys.Select(Ranks).ToArray();
        var perSample = rx.Select((r, i) => Pearson(r, ry[i])).ToArray();
        var validIdx = Enumerable.Range(0, perSample.Length).Where(i => !double.IsNaN(perSample[i])).ToArray();
        double observed = validIdx.Length == 0 ? double.NaN : validIdx.Average(i => perSample[i]);
        if (double.IsNaN(observed)) return new CorrelationResult(double.NaN, 1.0, perSample, permutations);
        var rng = new Random(seed);
        var labels = Enumerable.Range(0, n).ToArray();
        var shuffled = new double[n];
        int extreme = 0;
        for (int p = 0; p < permutations; p++)
        {
            rng.Shuffle(labels);
            double sum = 0;
            foreach (int i in validIdx)
            {
                for (int h = 0; h < n; h++) shuffled[h] = ry[i][labels[h]];
                sum += Pearson(rx[i], shuffled);
            }
            if (Math.Abs(sum / validIdx.Length) >= Math.Abs(observed) - 1e-12) extreme++;
        }
        return new CorrelationResult(observed, (1.0 + extreme) / (1.0 + permutations), perSample, permutations);
    }

    /// <summary>Average ranks (1-based); ties share their mean rank.</summary>
    public static double[] Ranks(IReadOnlyList<double> v)
    {
        var order = Enumerable.Range(0, v.Count).OrderBy(i => v[i]).ToArray();
        var ranks = new double[v.Count];
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && v[order[j + 1]] == v[order[i]]) j++;
            double mean = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) ranks[order[k]] = mean;
            i = j + 1;
        }
        return ranks;
    }

    /// <summary>Pearson correlation; NaN when either sample is constant.</summary>
    internal static double Pearson(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Count; i++)
        {
            double da = a[i] - ma, db = b[i] - mb;
            sab += da * db; saa += da * da; sbb += db * db;
        }
        return saa == 0 || sbb == 0 ? double.NaN : sab / Math.Sqrt(saa * sbb);
    }
}

/// <summary>A (mean) Spearman correlation with its permutation p-value.</summary>
/// <param name="Rho">Mean ρ over the valid samples.</param>
/// <param name="PValue">Two-sided permutation p-value of the mean.</param>
/// <param name="PerSample">ρ of each sample (NaN where a sample was constant).</param>
/// <param name="Permutations">Permutations drawn.</param>
public sealed record CorrelationResult(double Rho, double PValue, IReadOnlyList<double> PerSample, int Permutations);
