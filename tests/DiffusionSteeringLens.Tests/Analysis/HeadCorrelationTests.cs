using DiffusionSteeringLens.Analysis;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Analysis;

/// <summary>
/// Calibration of the correlation statistics by simulation: a no-skill lens must be declared significant about 5 % of
/// the time at α = 0.05, and an injected skill of ρ = 0.3 must be detected about as often as theory says.
/// </summary>
public sealed class HeadCorrelationTests
{
    private readonly ITestOutputHelper _out;

    public HeadCorrelationTests(ITestOutputHelper output) => _out = output;

    /// <summary>
    /// No-skill world: each head has a fixed effect on importance and an unrelated fixed effect on the lens score, plus
    /// per-image noise. Images share the heads, so only the head labels are exchangeable.
    /// </summary>
    private static (double[][] Scores, double[][] Importance) NullWorld(Random rng, int heads, int images)
    {
        var a = Enumerable.Range(0, heads).Select(_ => Normal(rng)).ToArray();
        var b = Enumerable.Range(0, heads).Select(_ => Normal(rng)).ToArray();
        var scores = Enumerable.Range(0, images).Select(_ => b.Select(v => v + 0.5 * Normal(rng)).ToArray()).ToArray();
        var importance = Enumerable.Range(0, images).Select(_ => a.Select(v => v + 0.5 * Normal(rng)).ToArray()).ToArray();
        return (scores, importance);
    }

    [Fact]
    public void MeanRhoOfANoSkillLensIsSignificantFivePercentOfTheTime()
    {
        var rng = new Random(2026);
        const int simulations = 1000;
        int hits = 0;
        for (int s = 0; s < simulations; s++)
        {
            var (scores, importance) = NullWorld(rng, heads: 16, images: 50);
            if (SpearmanCorrelation.MeanRho(scores, importance, permutations: 199, seed: s).PValue <= 0.05) hits++;
        }
        double rate = hits / (double)simulations;
        _out.WriteLine($"MeanRho false-positive rate at α = 0.05: {rate:P1} ({hits}/{simulations})");
        Assert.InRange(rate, 0.03, 0.07);
    }

    [Fact]
    public void HeadLevelRhoOfANoSkillLensIsSignificantFivePercentOfTheTime()
    {
        var rng = new Random(7);
        const int simulations = 1000;
        int oneSided = 0, twoSided = 0, covered = 0;
        for (int s = 0; s < simulations; s++)
        {
            var (scores, importance) = NullWorld(rng, heads: 16, images: 50);
            var r = HeadCorrelation.Compute(scores, importance, permutations: 999, bootstrap: 200, seed: s);
            if (r.PValueOneSided <= 0.05) oneSided++;
            if (r.PValueTwoSided <= 0.05) twoSided++;
            if (r.CiLow <= 0 && 0 <= r.CiHigh) covered++;
        }
        _out.WriteLine($"head-level false-positive rate: one-sided {oneSided / 10.0:F1} %, two-sided {twoSided / 10.0:F1} %; CI covers 0 in {covered / 10.0:F1} %");
        Assert.InRange(oneSided / (double)simulations, 0.03, 0.07);
        Assert.InRange(twoSided / (double)simulations, 0.03, 0.07);
        // The two-way bootstrap is conservative (it adds head-resampling ties), so coverage is at least nominal.
        Assert.True(covered / (double)simulations >= 0.93, $"CI covered ρ = 0 in only {covered / 10.0:F1} % of null worlds");
    }

    /// <summary>
    /// Injected skill: head-level score and importance drawn from a Gaussian copula whose Spearman ρ is 0.3. The
    /// measured detection rate (one-sided α = 0.05) must match the Fisher-z approximation
    /// Φ(atanh(0.3)·√((n − 3)/1.06) − 1.645) within ±0.07: ≈ 0.29 for 16 heads, ≈ 0.90 for 96 heads.
    /// </summary>
    [Theory]
    [InlineData(16)]
    [InlineData(96)]
    public void InjectedSkillOfRhoPointThreeIsDetectedAtThePowerTheoryPredicts(int heads)
    {
        var rng = new Random(heads);
        const int simulations = 1000;
        double r = 2 * Math.Sin(Math.PI * 0.3 / 6); // Pearson r of a Gaussian pair whose Spearman ρ is 0.3
        int hits = 0;
        for (int s = 0; s < simulations; s++)
        {
            var imp = new double[heads];
            var score = new double[heads];
            for (int h = 0; h < heads; h++)
            {
                imp[h] = Normal(rng);
                score[h] = r * imp[h] + Math.Sqrt(1 - r * r) * Normal(rng);
            }
            var res = HeadCorrelation.Compute(new[] { score }, new[] { imp }, permutations: 499, bootstrap: 1, seed: s);
            if (res.PValueOneSided <= 0.05) hits++;
        }
        double power = hits / (double)simulations;
        double expected = Phi(Math.Atanh(0.3) * Math.Sqrt((heads - 3) / 1.06) - 1.6449);
        _out.WriteLine($"{heads} heads: power to detect ρ = 0.3 is {power:P1} (Fisher approximation {expected:P1})");
        Assert.InRange(power, expected - 0.07, expected + 0.07);
    }

    [Fact]
    public void PairedDifferenceSeesABetterLensAndNotASameLens()
    {
        var rng = new Random(3);
        const int heads = 64, images = 20;
        var effect = Enumerable.Range(0, heads).Select(_ => Normal(rng)).ToArray();
        double[][] Noisy(double signal) => Enumerable.Range(0, images)
            .Select(_ => effect.Select(v => signal * v + Normal(rng)).ToArray()).ToArray();
        var importance = Noisy(1);
        var good = Noisy(0.8);
        var poor = Noisy(0.05);
        var d = HeadCorrelation.Difference(good, poor, importance, bootstrap: 500, seed: 1);
        _out.WriteLine($"Δρ good − poor = {d.Delta:F3} [{d.CiLow:F3}, {d.CiHigh:F3}], p = {d.PValueOneSided:F4}");
        Assert.True(d.CiLow > 0, "a clearly better lens must have a CI above 0");
        Assert.True(d.PValueOneSided < 0.01);
        var same = HeadCorrelation.Difference(good, good, importance, bootstrap: 200, seed: 1);
        Assert.Equal(0, same.Delta, 12);
        Assert.Equal(0, same.CiLow, 12);
        Assert.Equal(0, same.CiHigh, 12);
    }

    [Fact]
    public void MismatchedShapesAreRejectedWithTheirSizes()
    {
        var ex = Assert.Throws<ArgumentException>(() => HeadCorrelation.Compute(new[] { new double[] { 1, 2, 3 } },
            new[] { new double[] { 1, 2, 3 }, new double[] { 1, 2, 3 } }));
        Assert.Contains("1 images", ex.Message);
        Assert.Contains("2", ex.Message);
    }

    private static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static double Phi(double z) => 0.5 * (1 + Erf(z / Math.Sqrt(2)));

    // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): enough for a power band of ±0.07.
    private static double Erf(double x)
    {
        double t = 1 / (1 + 0.3275911 * Math.Abs(x));
        double y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return x >= 0 ? y : -y;
    }
}
