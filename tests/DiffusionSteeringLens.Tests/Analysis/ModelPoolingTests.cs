using DiffusionSteeringLens.Analysis;

namespace DiffusionSteeringLens.Tests.Analysis;

public sealed class ModelPoolingTests
{
    [Fact]
    public void ThreeModelsGiveTheTIntervalWithTwoDegreesOfFreedom()
    {
        // Worked by hand: mean 0.2, sd = √((0.01 + 0 + 0.01) / 2) = 0.1, SE = 0.1/√3 = 0.057735, t(0.975, 2) = 4.303.
        var p = PooledEstimate.Pool(new[] { 0.1, 0.2, 0.3 });
        Assert.Equal(0.2, p.Mean, 12);
        Assert.Equal(0.1 / Math.Sqrt(3), p.StandardError, 12);
        Assert.Equal(0.2 - 4.303 * 0.1 / Math.Sqrt(3), p.Low, 12);
        Assert.Equal(0.2 + 4.303 * 0.1 / Math.Sqrt(3), p.High, 12);
        Assert.Equal(3, p.Models);
    }

    [Fact]
    public void IntervalCoversTheTrueMeanNinetyFivePercentOfTheTime()
    {
        // Three normal draws per world: the t interval (not a normal one, which would cover ~78 %) keeps nominal coverage.
        var rng = new Random(11);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        int covered = 0, worlds = 4000;
        for (int w = 0; w < worlds; w++)
        {
            var p = PooledEstimate.Pool(new[] { Normal(), Normal(), Normal() });
            if (p.Low <= 0 && 0 <= p.High) covered++;
        }
        Assert.InRange(covered / (double)worlds, 0.93, 0.97);
    }

    [Fact]
    public void OneModelHasNoBetweenModelError()
    {
        var p = PooledEstimate.Pool(new[] { 0.4 });
        Assert.Equal(0.4, p.Mean);
        Assert.True(double.IsNaN(p.StandardError) && double.IsNaN(p.Low) && double.IsNaN(p.High));
    }

    [Fact]
    public void RejectsEmptyAndNonFiniteInput()
    {
        Assert.Throws<ArgumentException>(() => PooledEstimate.Pool(Array.Empty<double>()));
        var e = Assert.Throws<ArgumentException>(() => PooledEstimate.Pool(new[] { 0.1, double.NaN }));
        Assert.Contains("model 2", e.Message);
    }
}
