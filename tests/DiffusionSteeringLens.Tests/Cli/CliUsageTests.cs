using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary>Bad input and usage: exit code 1 and exactly one line on stderr.</summary>
public sealed class CliUsageTests
{
    public static IEnumerable<object[]> BadInvocations()
    {
        var enc = CliRun.GoldenEncoder;
        yield return new object[] { "unknown command", new[] { "bogus" }, "bogus" };
        yield return new object[] { "unknown option", new[] { "lens", "--encoder", enc, "--frobnicate" }, "--frobnicate" };
        yield return new object[] { "missing --targets", new[] { "steer", "--encoder", enc }, "--targets" };
        yield return new object[] { "bad target string", new[] { "steer", "--encoder", enc, "--targets", "L1X2" }, "L1X2" };
        yield return new object[] { "target outside the model", new[] { "steer", "--encoder", enc, "--targets", "L9H0" }, "layer 9" };
        yield return new object[] { "bad layer range", new[] { "steer", "--encoder", enc, "--targets", "L1-5" }, "L1-5" };
        yield return new object[] { "residual site to steer", new[] { "steer", "--encoder", enc, "--targets", "resid_post:1" }, "residual" };
        yield return new object[] { "bad steering", new[] { "rank", "--encoder", enc, "--steer", "boost:3" }, "boost:3" };
        yield return new object[] { "missing encoder folder", new[] { "lens", "--encoder", "/no/such/encoder" }, "/no/such/encoder" };
        yield return new object[] { "missing image", new[] { "lens", "--encoder", enc, "--image", "/no/such.png" }, "/no/such.png" };
        yield return new object[] { "missing pixels", new[] { "export", "--encoder", enc, "--pixels", "/no/such.safetensors", "--out", "/tmp/x.safetensors" }, "/no/such.safetensors" };
        yield return new object[] { "image and pixels", new[] { "lens", "--encoder", enc, "--image", CliRun.GoldenPixels, "--pixels", CliRun.GoldenPixels }, "--image" };
        yield return new object[] { "bad dtype", new[] { "lens", "--encoder", enc, "--dtype", "int8" }, "int8" };
        yield return new object[] { "bad device", new[] { "lens", "--encoder", enc, "--device", "tpu" }, "tpu" };
        yield return new object[] { "bad steps", new[] { "lens", "--encoder", enc, "--steps", "0" }, "--steps" };
        yield return new object[] { "bad denoise batch", new[] { "lens", "--encoder", enc, "--denoise-batch", "0" }, "--denoise-batch" };
        yield return new object[] { "non-numeric option", new[] { "lens", "--encoder", enc, "--steps", "many" }, "many" };
        yield return new object[] { "missing image folder", new[] { "overlay", "--encoder", enc, "--images", "/no/such/folder" }, "/no/such/folder" };
        yield return new object[] { "mean ablation without reference", new[] { "validate", "--encoder", enc, "--images", enc, "--ablation", "mean" }, "--reference-images" };
        yield return new object[] { "too few random orders", new[] { "validate", "--encoder", enc, "--random-orders", "0" }, "--random-orders" };
        yield return new object[] { "bad ablation", new[] { "validate", "--encoder", enc, "--ablation", "half" }, "half" };
        yield return new object[] { "bad domain", new[] { "overlay", "--encoder", enc, "--domain", "faces" }, "faces" };
        yield return new object[] { "bad overlay kind", new[] { "overlay", "--encoder", enc, "--domain", "marked", "--overlay-kind", "stars" }, "stars" };
        yield return new object[] { "numeric overlay kind", new[] { "overlay", "--encoder", enc, "--domain", "marked", "--overlay-kind", "2" }, "--overlay-kind" };
        yield return new object[] { "mark without the marked domain", new[] { "overlay", "--encoder", enc, "--overlay-kind", "dots" }, "--domain marked" };
        yield return new object[] { "marked domain with a folder", new[] { "overlay", "--encoder", enc, "--images", enc, "--domain", "marked" }, "--images" };
        yield return new object[] { "inspect missing path", new[] { "inspect", "/no/such/file.safetensors" }, "/no/such/file.safetensors" };
        yield return new object[] { "image that is not an image", new[] { "lens", "--encoder", enc, "--image", Path.Combine(enc, "config.json") }, "config.json" };
        yield return new object[] { "pixels that are not safetensors", new[] { "lens", "--encoder", enc, "--pixels", Path.Combine(enc, "image_53x40.png") }, "image_53x40.png" };
        yield return new object[] { "--out is a file", new[] { "lens", "--encoder", enc, "--out", Path.Combine(enc, "config.json") }, "--out" };
        yield return new object[] { "export without --out", new[] { "export", "--encoder", enc, "--pixels", CliRun.GoldenPixels }, "--out" };
    }

    [Theory]
    [MemberData(nameof(BadInvocations))]
    public async Task BadInputExitsOneWithOneLine(string why, string[] args, string mentioned)
    {
        var run = await CliRun.Public(args);
        Assert.True(run.ExitCode == 1, $"{why}: exit {run.ExitCode}, stderr: {run.Error}");
        Assert.Single(run.ErrorLines);
        Assert.Contains(mentioned, run.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task PixelsWithTheWrongShapeAreBadInput()
    {
        var dir = Fixtures.TempFolder();
        var file = Path.Combine(dir, "pixels.safetensors");
        using (var wrong = TorchSharp.torch.zeros(1, 3, 8, 8))
            DiffusionSteeringLens.IO.SafetensorsWriter.Write(file, new Dictionary<string, TorchSharp.torch.Tensor> { ["pixel_values"] = wrong });
        var run = await CliRun.Public("export", "--encoder", CliRun.GoldenEncoder, "--pixels", file, "--out", Path.Combine(dir, "out.safetensors"));
        run.AssertOneLineError(1, "[1, 3, 8, 8]");
    }

    [Fact]
    public async Task BrokenConfigIsBadInputNamingTheFile()
    {
        var dir = Fixtures.TempFolder();
        File.Copy(Path.Combine(CliRun.GoldenEncoder, "model.safetensors"), Path.Combine(dir, "model.safetensors"));
        File.WriteAllText(Path.Combine(dir, "config.json"), "{ \"hidden_size\": -3, \"model_type\": \"clip_vision_model\" }");
        var run = await CliRun.Public("lens", "--encoder", dir, "--out", Path.Combine(dir, "out"));
        run.AssertOneLineError(1, "config.json");
    }

    [Fact]
    public async Task WeightsThatDoNotFitTheConfigAreBadInput()
    {
        var dir = Fixtures.TempFolder();
        File.Copy(Path.Combine(CliRun.GoldenEncoder, "model.safetensors"), Path.Combine(dir, "model.safetensors"));
        var config = File.ReadAllText(Path.Combine(CliRun.GoldenEncoder, "config.json")).Replace("\"intermediate_size\": 37", "\"intermediate_size\": 40");
        File.WriteAllText(Path.Combine(dir, "config.json"), config);
        var run = await CliRun.Public("lens", "--encoder", dir, "--out", Path.Combine(dir, "out"));
        run.AssertOneLineError(1);
    }

    [Fact]
    public async Task MissingShippedModelIsBadInputWithAHint()
    {
        var run = await CliRun.WithHost(Array.Empty<string>(), baseDirectory: Fixtures.TempFolder());
        run.AssertOneLineError(1, "--encoder");
    }

    [Fact]
    public async Task HelpExitsZero()
    {
        var run = await CliRun.Public("--help");
        Assert.Equal(0, run.ExitCode);
        foreach (var c in new[] { "lens", "steer", "rank", "validate", "overlay", "demo", "inspect", "export" })
            Assert.Contains(c, run.Out);
        Assert.Equal("", run.Error);
    }

    [Fact]
    public async Task InternalErrorsExitTwoWithOneLine()
    {
        var broken = new FakeRenderer(24) { FailWith = new InvalidOperationException("boom\nsecond line") };
        var run = await CliRun.WithHost(new[] { "lens", "--encoder", CliRun.GoldenEncoder, "--out", Fixtures.TempFolder() }, broken);
        run.AssertOneLineError(2, "boom second line");
    }
}
