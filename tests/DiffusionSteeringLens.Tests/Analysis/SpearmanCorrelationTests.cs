using DiffusionSteeringLens.Analysis;

namespace DiffusionSteeringLens.Tests.Analysis;

public sealed class SpearmanCorrelationTests
{
    [Fact]
    public void KnownValues()
    {
        Assert.Equal(1.0, SpearmanCorrelation.Rho(new double[] { 1, 2, 3, 4 }, new double[] { 10, 20, 30, 400 }), 12);
        Assert.Equal(-1.0, SpearmanCorrelation.Rho(new double[] { 1, 2, 3, 4 }, new double[] { 4, 3, 2, 1 }), 12);
        // Classic textbook example (n = 5): d² = 2 → ρ = 1 − 6·2 / (5·24) = 0.9.
        Assert.Equal(0.9, SpearmanCorrelation.Rho(new double[] { 1, 2, 3, 4, 5 }, new double[] { 2, 1, 3, 4, 5 }), 12);
    }

    [Fact]
    public void TiesShareAverageRanks()
    {
        Assert.Equal(new[] { 1.5, 1.5, 3, 4 }, SpearmanCorrelation.Ranks(new double[] { 7, 7, 8, 9 }));
        Assert.True(double.IsNaN(SpearmanCorrelation.Rho(new double[] { 1, 1, 1 }, new double[] { 1, 2, 3 })));
    }

    [Fact]
    public void PermutationPValueIsSmallForStrongAndLargeForNoCorrelation()
    {
        var x = Enumerable.Range(0, 16).Select(i => (double)i).ToArray();
        var strong = Enumerable.Repeat<IReadOnlyList<double>>(x, 5).ToArray();
        var r = SpearmanCorrelation.MeanRho(strong, strong, permutations: 999, seed: 1);
        Assert.Equal(1.0, r.Rho, 12);
        Assert.Equal(1.0 / 1000, r.PValue, 12);

        var rng = new Random(4);
        var noise = Enumerable.Range(0, 5).Select(_ => (IReadOnlyList<double>)x.Select(_ => rng.NextDouble()).ToArray()).ToArray();
        var n = SpearmanCorrelation.MeanRho(strong, noise, permutations: 999, seed: 2);
        Assert.True(n.PValue > 0.05, $"p = {n.PValue}");
        var again = SpearmanCorrelation.MeanRho(strong, noise, permutations: 999, seed: 2);
        Assert.Equal(n.PValue, again.PValue); // seeded
    }
}
