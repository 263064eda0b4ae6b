using DiffusionSteeringLens.Analysis;

namespace DiffusionSteeringLens.Tests.Analysis;

public sealed class WilsonIntervalTests
{
    // Reference values from the closed form (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n), z = 1.96, worked by hand:
    // 5/10 → 0.2366…0.7634; 0/10 → 0…z²/(n+z²) = 0.2775; 10/10 → 1 − 0.2775…1; 1/20 → 0.0089…0.2361.
    [Theory]
    [InlineData(5, 10, 0.2366, 0.7634)]
    [InlineData(0, 10, 0.0, 0.2775)]
    [InlineData(10, 10, 0.7225, 1.0)]
    [InlineData(1, 20, 0.0089, 0.2361)]
    public void MatchesTheClosedForm(int k, int n, double low, double high)
    {
        var (l, h) = WilsonInterval.Compute(k, n);
        Assert.Equal(low, l, 4);
        Assert.Equal(high, h, 4);
    }

    [Fact]
    public void CoversTheTrueProportionAboutNinetyFivePercentOfTheTime()
    {
        // Simulated coverage at p = 0.2, n = 40 (a removal rate on a small evaluation set): Wilson's is close to nominal.
        var rng = new Random(3);
        int covered = 0, worlds = 4000;
        for (int w = 0; w < worlds; w++)
        {
            int k = Enumerable.Range(0, 40).Count(_ => rng.NextDouble() < 0.2);
            var (l, h) = WilsonInterval.Compute(k, 40);
            if (l <= 0.2 && 0.2 <= h) covered++;
        }
        double rate = covered / (double)worlds;
        Assert.InRange(rate, 0.92, 0.98);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(-1, 5)]
    [InlineData(6, 5)]
    public void RejectsImpossibleCounts(int k, int n) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => WilsonInterval.Compute(k, n));
}
