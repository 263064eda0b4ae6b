using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Kandinsky.Schedulers;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Kandinsky.Schedulers;

/// <summary>DDPM scheduler behaviour beyond the golden cases: spacing variants, injected noise, bad configs.</summary>
public sealed class DdpmSchedulerTests
{
    [Theory]
    [InlineData("leading", 1, 4, new long[] { 751, 501, 251, 1 })]
    [InlineData("trailing", 0, 4, new long[] { 999, 749, 499, 249 })]
    [InlineData("linspace", 0, 4, new long[] { 999, 666, 333, 0 })]
    [InlineData("trailing", 0, 3, new long[] { 999, 666, 332 })]
    public void Timestep_spacings_follow_the_reference(string spacing, int offset, int steps, long[] expected)
    {
        using var scheduler = new DdpmScheduler(new DdpmSchedulerConfig { TimestepSpacing = spacing, StepsOffset = offset });
        scheduler.SetTimesteps(steps);
        Assert.Equal(expected, scheduler.Timesteps);
    }

    [Fact]
    public void Step_requires_injected_noise_before_the_final_timestep()
    {
        using var scheduler = new DdpmScheduler(new DdpmSchedulerConfig { StepsOffset = 1 });
        scheduler.SetTimesteps(4);
        using var x = torch.zeros(1, 4, 2, 2);
        Assert.Throws<ArgumentNullException>(() => scheduler.Step(x, 751, x, null));
    }

    [Fact]
    public void Bad_scheduler_config_value_names_the_key()
    {
        var dir = Fixtures.TempFolder();
        var text = File.ReadAllText(Path.Combine(Fixtures.Golden("scheduler"), "scheduler_config.json"))
            .Replace("\"variance_type\": \"fixed_small\"", "\"variance_type\": \"wobbly\"", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(dir, "scheduler_config.json"), text);
        var e = Assert.Throws<ConfigException>(() => DdpmScheduler.FromPretrained(dir));
        Assert.Equal("variance_type", e.Key);
        Assert.Contains("scheduler_config.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scaled_linear_betas_are_squares_of_a_linspace()
    {
        using var scheduler = new DdpmScheduler(new DdpmSchedulerConfig { BetaSchedule = "scaled_linear", BetaStart = 0.00085, BetaEnd = 0.012 });
        Assert.Equal(0.00085, scheduler.Betas[0].item<float>(), 6);
        Assert.Equal(0.012, scheduler.Betas[999].item<float>(), 6);
    }
}
