using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Vit;
using DiffusionSteeringLens.Tests.Cli;
using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.Vit;

/// <summary><c>--encoder</c> detects the family from config.json; ViT and DINOv2 folders run through the CLI.</summary>
public sealed class FamilyCliTests
{
    [Theory]
    [InlineData("vit", "logits")]
    [InlineData("dinov2", "pooler_output")]
    public async Task ExportOnAFamilyFolderGivesTheReferenceOutput(string family, string outputName)
    {
        var folder = Fixtures.Golden(family);
        var file = Path.Combine(Fixtures.TempFolder(), "readouts.safetensors");
        var cases = Path.Combine(folder, "cases.safetensors");
        var run = await CliRun.Public("export", "--encoder", folder, "--pixels", cases, "--out", file);
        Assert.True(run.ExitCode == 0, run.Error);
        using var written = SafetensorsFile.Open(file);
        using var reference = SafetensorsFile.Open(cases);
        using var expected = reference.Load(outputName);
        using var embeds = written.Load("image_embeds");
        TensorAssert.CloseScaled(expected, embeds, 1e-4, $"{family}: CLI image_embeds vs transformers {outputName}");
        // The last layer's DL read-out is the model output again (ViT: logits, DINOv2: pooled CLS).
        using var sweep = written.Load("dl.resid_post");
        using var last = sweep.select(1, sweep.shape[1] - 1);
        TensorAssert.CloseScaled(expected, last, 1e-4, $"{family}: CLI dl.resid_post final");
    }

    [Theory]
    [InlineData("vit", "vit, 2 layers × 4 heads, 16px, P=5")]
    [InlineData("dinov2", "dinov2, 2 layers × 4 heads, 20px, P=32")]
    public async Task LensOnAnImageUsesTheFamilysProcessor(string family, string summary)
    {
        var folder = Fixtures.Golden(family);
        var image = Directory.GetFiles(folder, "image_*.png").Single();
        var outDir = Fixtures.TempFolder();
        var run = await CliRun.Public("lens", "--encoder", folder, "--image", image, "--out", outDir);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains(summary, run.Out + run.Error);
        Assert.True(File.Exists(Path.Combine(outDir, "results.json")), string.Join(", ", Directory.GetFiles(outDir)));
    }

    [Theory]
    [InlineData("\"model_type\": \"swin\"", "swin")]
    [InlineData("\"model_type\": \"vit\", \"architectures\": [\"ViTModel\"]", "ViTModel")]
    public async Task UnsupportedFamilyIsAOneLineError(string fields, string mentioned)
    {
        var dir = Fixtures.TempFolder();
        File.WriteAllText(Path.Combine(dir, "config.json"), "{ " + fields + ", \"hidden_size\": 32 }");
        var run = await CliRun.Public("lens", "--encoder", dir, "--out", Fixtures.TempFolder());
        run.AssertOneLineError(1, mentioned);
        Assert.Contains("config.json", run.Error);
    }

    [Theory]
    [InlineData("clip_vision", HookedVitFamilies.ClipVision)]
    [InlineData("vit", HookedVitFamilies.Vit)]
    [InlineData("dinov2", HookedVitFamilies.Dinov2)]
    public void DetectReadsModelTypeAndArchitectures(string folder, string family)
    {
        Assert.Equal(family, HookedVitFamilies.Detect(Fixtures.Golden(folder)));
        using var model = HookedVitFamilies.FromPretrained(Fixtures.Golden(folder));
        Assert.Equal(family, model.Architecture.Family);
    }

    [Fact]
    public void ArchitecturesAloneAreEnoughAndUnknownOnesAreNamed()
    {
        var dir = Fixtures.TempFolder();
        var config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, "{ \"architectures\": [\"Dinov2Model\"] }");
        Assert.Equal(HookedVitFamilies.Dinov2, HookedVitFamilies.Detect(config));
        File.WriteAllText(config, "{ \"architectures\": [\"BeitModel\"] }");
        var e = Assert.Throws<ConfigException>(() => HookedVitFamilies.Detect(config));
        Assert.Contains("BeitModel", e.Message);
        Assert.Equal("architectures", e.Key);
    }
}
