using System.Text.Json;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary>The CLI on the real Kandinsky 2.2 decoder (golden tiny UNet + MoVQ + scheduler).</summary>
public sealed class CliDecoderTests
{
    /// <summary>A diffusers decoder folder assembled from the golden components.</summary>
    private static string DecoderFolder()
    {
        var dir = Fixtures.TempFolder();
        foreach (var (part, from) in new[] { ("unet", "unet"), ("movq", "movq"), ("scheduler", "scheduler") })
        {
            Directory.CreateDirectory(Path.Combine(dir, part));
            foreach (var f in Directory.GetFiles(Fixtures.Golden(from)).Where(f => !f.EndsWith("cases.safetensors", StringComparison.Ordinal)))
                File.Copy(f, Path.Combine(dir, part, Path.GetFileName(f)));
        }
        return dir;
    }

    /// <summary>A tiny random CLIP vision model whose embedding width (32) fits the golden UNet.</summary>
    private static string EncoderFor32()
    {
        var dir = Fixtures.TempFolder();
        var json = File.ReadAllText(Path.Combine(CliRun.GoldenEncoder, "config.json")).Replace("\"projection_dim\": 24", "\"projection_dim\": 32");
        File.WriteAllText(Path.Combine(dir, "config.json"), json);
        File.Copy(Path.Combine(CliRun.GoldenEncoder, "preprocessor_config.json"), Path.Combine(dir, "preprocessor_config.json"));
        using var model = new ClipVisionModelWithProjection(ClipVisionConfig.Load(dir));
        using var g = new torch.Generator(3);
        var sd = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.ndim == 1
            ? (kv.Key.EndsWith("weight", StringComparison.Ordinal) ? torch.ones_like(kv.Value) : torch.zeros_like(kv.Value))
            : torch.randn(kv.Value.shape, generator: g) * 0.1);
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), sd);
        foreach (var t in sd.Values) t.Dispose();
        return dir;
    }

    [Fact]
    public async Task LensDecodesWithTheKandinskyDecoder()
    {
        var outDir = Fixtures.TempFolder();
        var run = await CliRun.Public("lens", "--encoder", EncoderFor32(), "--decoder", DecoderFolder(), "--steps", "2", "--size", "16", "--out", outDir);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(outDir, "pictures", "dl-layers"), "*.png").Length);
        Assert.True(File.Exists(Path.Combine(outDir, "grid-layer-sweep.png")));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")));
        foreach (var r in json.RootElement.GetProperty("layerSweep").EnumerateArray())
            Assert.Equal(JsonValueKind.Number, r.GetProperty("imageSimilarity").ValueKind);
    }

    [Fact]
    public async Task MismatchedEncoderAndDecoderIsBadInput()
    {
        var run = await CliRun.Public("lens", "--encoder", CliRun.GoldenEncoder, "--decoder", DecoderFolder(), "--steps", "2", "--out", Fixtures.TempFolder());
        run.AssertOneLineError(1, "32");
    }

    [Fact]
    public async Task DecoderFolderWithoutUnetIsBadInput()
    {
        var run = await CliRun.Public("lens", "--encoder", CliRun.GoldenEncoder, "--decoder", Fixtures.TempFolder(), "--out", Fixtures.TempFolder());
        run.AssertOneLineError(1, "unet");
    }

    [Fact]
    public async Task PriorRepoRootIsAcceptedAsEncoder()
    {
        var root = Fixtures.TempFolder();
        Directory.CreateDirectory(Path.Combine(root, "image_encoder"));
        Directory.CreateDirectory(Path.Combine(root, "image_processor"));
        foreach (var f in new[] { "config.json", "model.safetensors" })
            File.Copy(Path.Combine(CliRun.GoldenEncoder, f), Path.Combine(root, "image_encoder", f));
        File.Copy(Path.Combine(CliRun.GoldenEncoder, "preprocessor_config.json"), Path.Combine(root, "image_processor", "preprocessor_config.json"));
        var outFile = Path.Combine(Fixtures.TempFolder(), "x.safetensors");
        var run = await CliRun.Public("export", "--encoder", root, "--pixels", CliRun.GoldenPixels, "--out", outFile);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.True(File.Exists(outFile));
    }

    [Fact]
    public async Task OptionsWithoutACommandRunTheDemo()
    {
        var outDir = Fixtures.TempFolder();
        var run = await CliRun.Public("--encoder", CliRun.GoldenEncoder, "--out", outDir, "--no-overlay", "--permutations", "50");
        Assert.True(run.ExitCode == 0, run.Error);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")));
        Assert.Equal("demo", json.RootElement.GetProperty("command").GetString());
    }
}
