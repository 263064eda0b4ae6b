using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;

namespace DiffusionSteeringLens.Tests.Experiments;

/// <summary>The plain-words verdicts follow the numbers: direction, CI, attainable p, sample-size warnings.</summary>
public sealed class VerdictsTests
{
    [Fact]
    public void CorrelationVerdictFollowsTheCiAndTheSuccessDirection()
    {
        var tracked = new HeadCorrelationResult(0.7, 0.001, 0.002, 0.3, 0.9, 50, 96, 10_000, 2_000);
        var unclear = tracked with { Rho = 0.2, PValueOneSided = 0.2, CiLow = -0.3, CiHigh = 0.6 };
        var opposite = tracked with { Rho = -0.7, PValueOneSided = 0.999, CiLow = -0.9, CiHigh = -0.3 };
        Assert.StartsWith("DSL tracked ablation importance", Verdicts.Correlation("DSL", tracked));
        Assert.StartsWith("DSL did not detectably track", Verdicts.Correlation("DSL", unclear));
        Assert.StartsWith("DSL ranked heads opposite", Verdicts.Correlation("DSL", opposite));
        Assert.Contains("95 % CI [0.300, 0.900]", Verdicts.Correlation("DSL", tracked));
        Assert.Contains("50 images", Verdicts.Correlation("DSL", tracked));
    }

    [Fact]
    public void OverlayVerdictSaysWhenTheDesignCannotReachSignificance()
    {
        var best = new OverlayStudyResult(new[] { new HeadScore(new HeadTarget(3, 0), 0.5, 1) }, 1.0, 0.004, 0.9, 15 / 16.0, 1 / 16.0, 16, true, 0.99, 0.98, 20, 16);
        var text = Verdicts.Overlay(best);
        Assert.Contains("not shown to remove more overlay than chance", text);
        Assert.Contains("smallest attainable p is 0.063", text);
        Assert.Contains("removes the most overlay of them all", text);
        var sampled = best with { Exhaustive = false, SubsetsCompared = 2000, PresenceAfter = 0.8, PValue = 0.4, Percentile = 0.6 };
        var sampledText = Verdicts.Overlay(sampled);
        Assert.DoesNotContain("attainable", sampledText);
        Assert.EndsWith("Most of the overlay remains.", sampledText);
    }

    [Fact]
    public void WarningsNameTheMeasuredPowerAndFewImages()
    {
        var warnings = Verdicts.Warnings(heads: 16, images: 1);
        Assert.Equal(2, warnings.Count);
        Assert.Contains("29 %", warnings[0]);                                     // the Fisher approximation at 16 heads, ρ = 0.3
        Assert.Contains("Only 1 evaluation image", warnings[1]);
        Assert.Empty(Verdicts.Warnings(heads: 96, images: 50));
    }
}
