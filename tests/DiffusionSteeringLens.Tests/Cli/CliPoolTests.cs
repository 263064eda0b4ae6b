using System.Text.Json;
using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary><c>dsl pool</c>: the same study on several models → mean, between-model SE and t interval per statistic.</summary>
public sealed class CliPoolTests
{
    private static string Validation(string dir, string name, double dsl, double dl, double delta)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, $$"""
            { "command": "validate", "validation": {
                "lenses": [ { "lens": "DSL", "correlation": { "rho": {{dsl}} } }, { "lens": "DL-on-heads", "correlation": { "rho": {{dl}} } } ],
                "dslVsDl": { "delta": {{delta}} },
                "trajectories": { "dslPercentile": 0.5 } } }
            """);
        return path;
    }

    [Fact]
    public async Task PoolsEveryStatisticOverModelsAndWritesPooledJson()
    {
        var dir = Fixtures.TempFolder();
        var a = Validation(dir, "a.json", 0.1, 0.3, -0.2);
        var b = Validation(dir, "b.json", 0.2, 0.3, -0.1);
        var c = Validation(dir, "c.json", 0.3, 0.3, 0.0);
        var run = await CliRun.Public("pool", a, b, c, "--out", dir);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("pooled over 3 models", run.Out);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "pooled.json")));
        var dsl = doc.RootElement.GetProperty("statistics").GetProperty("rho DSL");
        // mean 0.2, SE 0.1/√3, t(0.975, 2) = 4.303 (see ModelPoolingTests).
        Assert.Equal(0.2, dsl.GetProperty("mean").GetDouble(), 12);
        Assert.Equal(0.1 / Math.Sqrt(3), dsl.GetProperty("standardError").GetDouble(), 12);
        Assert.Equal(0.2 + 4.303 * 0.1 / Math.Sqrt(3), dsl.GetProperty("high").GetDouble(), 12);
        var dl = doc.RootElement.GetProperty("statistics").GetProperty("rho DL-on-heads");
        Assert.Equal(0.0, dl.GetProperty("standardError").GetDouble(), 12);
        Assert.Equal(-0.1, doc.RootElement.GetProperty("statistics").GetProperty("delta-rho DSL - DL").GetProperty("mean").GetDouble(), 12);
    }

    [Fact]
    public async Task PoolsPictureSpaceStudiesWithTheirSeedAgreement()
    {
        var dir = Fixtures.TempFolder();
        string ImageScores(string name, double dsl, double delta, double agreement)
        {
            var path = Path.Combine(dir, name);
            File.WriteAllText(path, $$"""
                { "command": "image-scores", "imageSpace": {
                    "lenses": [ { "lens": "DSL (image)", "correlation": { "rho": {{dsl}} } }, { "lens": "output-norm", "correlation": { "rho": 0.9 } } ],
                    "dslVsDl": { "delta": {{delta}} }, "dslSeedAgreement": {{agreement}}, "dlSeedAgreement": 0.8 } }
                """);
            return path;
        }
        var run = await CliRun.Public("pool", ImageScores("a.json", 0.1, 0.2, 0.85), ImageScores("b.json", 0.3, 0.4, 0.95), "--out", dir);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("image-scores pooled over 2 models", run.Out);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "pooled.json")));
        var stats = doc.RootElement.GetProperty("statistics");
        Assert.Equal(0.2, stats.GetProperty("rho DSL (image)").GetProperty("mean").GetDouble(), 12);
        Assert.Equal(0.3, stats.GetProperty("delta-rho DSL - DL").GetProperty("mean").GetDouble(), 12);
        Assert.Equal(0.9, stats.GetProperty("dslSeedAgreement").GetProperty("mean").GetDouble(), 12);
        Assert.Equal(0.0, stats.GetProperty("dlSeedAgreement").GetProperty("standardError").GetDouble(), 12);
    }

    [Fact]
    public async Task MixedMissingOrBrokenInputsAreOneLineErrors()
    {
        var dir = Fixtures.TempFolder();
        var a = Validation(dir, "a.json", 0.1, 0.3, -0.2);
        var overlay = Path.Combine(dir, "overlay.json");
        File.WriteAllText(overlay, """{ "command": "overlay", "overlay": { "presenceAfter": 0.1, "randomPresenceMean": 0.9, "removedImages": 3, "evaluationImages": 4, "randomRemovalRate": 0.1, "percentile": 0.9, "cleanShiftAlongDirection": 0.0 } }""");
        var broken = Path.Combine(dir, "broken.json");
        File.WriteAllText(broken, "{ \"command\": ");
        var other = Path.Combine(dir, "other.json");
        File.WriteAllText(other, """{ "command": "rank", "heads": [] }""");
        (await CliRun.Public("pool", a, overlay)).AssertOneLineError(1, "one kind of study");
        (await CliRun.Public("pool", a, Path.Combine(dir, "nope.json"))).AssertOneLineError(1, "nope.json");
        (await CliRun.Public("pool", a, broken)).AssertOneLineError(1, "broken.json");
        (await CliRun.Public("pool", other)).AssertOneLineError(1, "validation, imageSpace or overlay");
    }
}
