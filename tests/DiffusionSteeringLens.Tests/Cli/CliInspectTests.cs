using System.Text.RegularExpressions;
using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary><c>dsl inspect</c> on every golden weight and config file.</summary>
public sealed class CliInspectTests
{
    public static IEnumerable<object[]> GoldenFiles() =>
        Directory.EnumerateFiles(Path.Combine(Fixtures.Root, "golden"), "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".safetensors", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(Fixtures.Root, f))
            .OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => new object[] { f });

    [Theory]
    [MemberData(nameof(GoldenFiles))]
    public async Task InspectNamesFamilyAndParameterCount(string relative)
    {
        var run = await CliRun.Public("inspect", Path.Combine(Fixtures.Root, relative));
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal("", run.Error);
        var family = Regex.Match(run.Out, @"^family:\s+(\w+)", RegexOptions.Multiline);
        Assert.True(family.Success, run.Out);
        Assert.Matches(@"(?m)^parameters: ", run.Out);
        var expected = ExpectedFamily(relative);
        if (expected is not null) Assert.Equal(expected, family.Groups[1].Value);
        if (relative.EndsWith("model.safetensors", StringComparison.Ordinal)) Assert.Matches(@"(?m)^parameters: [\d,]+ ", run.Out);
    }

    [Theory]
    [InlineData("golden/clip_vision", "clip_vision", "16,586")]
    [InlineData("golden/unet", "unet", null)]
    [InlineData("golden/movq", "movq", null)]
    [InlineData("golden/scheduler", "scheduler", "0")]
    [InlineData("golden/vit", "vit", null)]
    [InlineData("golden/dinov2", "dinov2", null)]
    public async Task InspectFolders(string relative, string family, string? parameters)
    {
        var run = await CliRun.Public("inspect", Path.Combine(Fixtures.Root, relative));
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Matches($@"(?m)^family:\s+{family}\b", run.Out);
        if (parameters is not null) Assert.Matches($@"(?m)^parameters: {parameters} ", run.Out);
    }

    [Fact]
    public async Task FullSizeManifestConfigsAreCountedOnMeta()
    {
        var run = await CliRun.Public("inspect", Path.Combine(Fixtures.Root, "golden/manifests/clip_vision_bigG.config.json"));
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("META", run.Out);
        Assert.Matches(@"(?m)^parameters: 1,8\d\d,\d{3},\d{3} ", run.Out);
    }

    [Fact]
    public async Task DamagedFileIsBadInput()
    {
        var dir = Fixtures.TempFolder();
        var file = Path.Combine(dir, "broken.safetensors");
        File.WriteAllBytes(file, new byte[] { 200, 0, 0, 0, 0, 0, 0, 0, (byte)'{' });
        var run = await CliRun.Public("inspect", file);
        run.AssertOneLineError(1);
    }

    [Fact]
    public async Task PickleIsBadInput()
    {
        var dir = Fixtures.TempFolder();
        var file = Path.Combine(dir, "pytorch_model.bin");
        File.WriteAllBytes(file, new byte[] { 0x80, 0x02, (byte)'c', (byte)'x', 0, 0, 0, 0, 0, 0 });
        var run = await CliRun.Public("inspect", file);
        run.AssertOneLineError(1);
    }

    private static string? ExpectedFamily(string relative)
    {
        var parts = relative.Replace('\\', '/').Split('/');
        var name = parts[^1];
        if (name == "cases.safetensors" || name == "components.json") return null;
        return parts[1] switch
        {
            "clip_vision" => "clip_vision",
            // Their preprocessor configs are CLIP-style image processor files, which inspect files under clip_vision.
            "vit" or "dinov2" => name == "preprocessor_config.json" ? "clip_vision" : parts[1],
            "unet" => "unet",
            "movq" => "movq",
            "scheduler" => "scheduler",
            "pipeline" => name.StartsWith("scheduler", StringComparison.Ordinal) ? "scheduler" : null,
            "manifests" => name.StartsWith("clip_vision", StringComparison.Ordinal) ? "clip_vision"
                : name.Contains("unet", StringComparison.Ordinal) ? "unet" : name.Contains("movq", StringComparison.Ordinal) ? "movq" : null,
            _ => null,
        };
    }
}
