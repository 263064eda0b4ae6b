using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Tests.TestSupport;
using DiffusionSteeringLens.Tests.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary><c>dsl export</c> writes exactly what the library API computes.</summary>
public sealed class CliExportTests
{
    [Theory]
    [InlineData("scale:8")]
    [InlineData("relative:1.5")]
    public async Task ExportMatchesTheLibraryBitwise(string steer)
    {
        var dir = Fixtures.TempFolder();
        var file = Path.Combine(dir, "readouts.safetensors");
        var run = await CliRun.Public("export", "--encoder", CliRun.GoldenEncoder, "--pixels", CliRun.GoldenPixels, "--out", file, "--steer", steer);
        Assert.True(run.ExitCode == 0, run.Error);

        using var vit = GoldenClip.Load();
        using var pixels = GoldenClip.Pixels();
        var arch = vit.Architecture;
        long b = pixels.shape[0];
        var dl = new DiffusionLens(vit);
        var dsl = new SteeringLens(vit, new SteeringOptions { Steering = SteeringFunction.Parse(steer) });
        using var scope = torch.NewDisposeScope();
        var expected = new Dictionary<string, torch.Tensor>
        {
            ["image_embeds"] = vit.Forward(pixels),
            ["dl.resid_post"] = dl.ComputeEmbeddings(pixels, LensTarget.LayerSweep(arch)),
            ["dl.heads"] = dl.ComputeEmbeddings(pixels, LensTarget.AllHeads(arch)).view(b, arch.NumLayers, arch.NumHeads, arch.OutputDim),
            ["dsl.heads"] = dsl.ComputeEmbeddings(pixels, LensTarget.AllHeads(arch)).view(b, arch.NumLayers, arch.NumHeads, arch.OutputDim),
            ["dsl.mlps"] = dsl.ComputeEmbeddings(pixels, LensTarget.AllMlps(arch)),
        };
        using var written = SafetensorsFile.Open(file);
        Assert.Equal(expected.Keys.OrderBy(k => k), written.Names.OrderBy(k => k));
        foreach (var (name, want) in expected)
        {
            Assert.Equal("F32", written.GetInfo(name).DType);
            var got = written.Load(name);
            Assert.Equal(want.shape, got.shape);
            TensorAssert.Equal(want, got, name);
        }
        Assert.Equal(steer, written.Metadata["steering"]);
    }

    [Fact]
    public async Task ExportFromAnImageFile()
    {
        var dir = Fixtures.TempFolder();
        var file = Path.Combine(dir, "img.safetensors");
        var run = await CliRun.Public("export", "--encoder", CliRun.GoldenEncoder, "--image", Path.Combine(CliRun.GoldenEncoder, "image_53x40.png"), "--out", file);
        Assert.True(run.ExitCode == 0, run.Error);
        using var written = SafetensorsFile.Open(file);
        Assert.Equal(new long[] { 1, 2, 4, 24 }, written.GetInfo("dsl.heads").Shape);
    }
}
