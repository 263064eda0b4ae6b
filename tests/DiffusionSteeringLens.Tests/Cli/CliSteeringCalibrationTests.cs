using System.Text.Json;
using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary><c>dsl validate --steer auto:relative|global</c> and <c>--readout</c>.</summary>
public sealed class CliSteeringCalibrationTests
{
    [Fact]
    public async Task ValidateChoosesTheStrengthOnCalibrationImagesAndReportsTheGrid()
    {
        var dir = Fixtures.TempFolder();
        var run = await CliRun.Public("validate", "--encoder", CliRun.GoldenEncoder, "--no-decode", "--steer", "auto:global", "--readout", "frozen-ln",
            "--synthetic", "4", "--permutations", "100", "--bootstrap", "50", "--random-orders", "10", "--trajectory-steps", "2", "--out", dir);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("steering chosen on 20 calibration images", run.Out);
        foreach (var alpha in new[] { "0.25", "0.5", "1", "2", "4", "8" }) Assert.Contains($"global:{alpha} ρ = ", run.Out);
        Assert.Contains("chosen: global:", run.Out);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json")));
        var steering = json.RootElement.GetProperty("steering").GetString()!;
        Assert.StartsWith("global:", steering);
        Assert.Contains("auto, chosen on 20 calibration images", steering);
        Assert.Contains("frozen-LN read-out", steering);
    }

    public static IEnumerable<object[]> BadInvocations()
    {
        var enc = CliRun.GoldenEncoder;
        yield return new object[] { "auto outside validate", new[] { "rank", "--encoder", enc, "--steer", "auto:global" }, "auto:global" };
        yield return new object[] { "unknown auto family", new[] { "validate", "--encoder", enc, "--steer", "auto:sideways" }, "sideways" };
        yield return new object[] { "unknown read-out", new[] { "validate", "--encoder", enc, "--readout", "frozen" }, "frozen" };
    }

    [Theory]
    [MemberData(nameof(BadInvocations))]
    public async Task BadSteeringOptionsExitOneWithOneLine(string why, string[] args, string mentioned)
    {
        var run = await CliRun.Public(args);
        Assert.True(run.ExitCode == 1, $"{why}: exit {run.ExitCode}, stderr: {run.Error}");
        Assert.Single(run.ErrorLines);
        Assert.Contains(mentioned, run.Error, StringComparison.OrdinalIgnoreCase);
    }
}
