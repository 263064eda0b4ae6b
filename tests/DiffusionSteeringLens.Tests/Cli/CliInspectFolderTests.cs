using System.Globalization;
using System.Text.RegularExpressions;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Models.Vit;
using DiffusionSteeringLens.Synthetic;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary><c>dsl inspect FOLDER</c> recognises every kind of model folder and summarises each component it holds.</summary>
public sealed class CliInspectFolderTests
{
    /// <summary>Encoder folders: family, layers × heads, width, patch, image size, dtype and the loaded model's parameter count.</summary>
    [Theory]
    [InlineData("clip_vision")]
    [InlineData("vit")]
    [InlineData("dinov2")]
    public async Task EncoderFolderIsSummarised(string family)
    {
        string folder = Fixtures.Golden(family);
        var run = await CliRun.Public("inspect", folder);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Matches($@"(?m)^family:\s+{family} ", run.Out);
        Assert.Matches(@"(?m)^summary:    2 layers × 4 heads, width 32, patch 4, image 16\b.*; F32$", run.Out);
        using var model = HookedVitFamilies.FromPretrained(folder);
        Assert.Equal(model.parameters().Sum(p => p.numel()), Parameters(run.Out));
    }

    /// <summary>UNet and MoVQ folders: their architecture line and the weights' parameter count.</summary>
    [Theory]
    [InlineData("unet", @"2 levels \(32, 64 channels\), 1/1 resnets per level, head size 4, latent 4 → 8 channels, image embedding 32; F32")]
    [InlineData("movq", @"2 levels \(32, 64 channels\), latent 4 channels \(÷2 size\), 12 codes, spatial norm; F32")]
    public async Task DecoderPartFolderIsSummarised(string family, string summary)
    {
        var run = await CliRun.Public("inspect", Fixtures.Golden(family));
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Matches($@"(?m)^family:\s+{family} ", run.Out);
        Assert.Matches($@"(?m)^summary:    {summary}$", run.Out);
        if (family == "unet")
        {
            using var unet = UNet2DConditionModel.FromPretrained(Fixtures.Golden(family));
            Assert.Equal(unet.parameters().Sum(p => p.numel()), Parameters(run.Out));
        }
    }

    /// <summary>The shipped decoder root (unet/ + scheduler/, no movq/) is a Kandinsky decoder; its total is its UNet's.</summary>
    [Fact]
    public async Task DecoderRootListsItsParts()
    {
        string decoder = Path.Combine(ShippedShapesModel.Require(), "decoder");
        var run = await CliRun.Public("inspect", decoder);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Matches(@"(?m)^family:\s+kandinsky_decoder \(2 components\)$", run.Out);
        Assert.Matches(@"(?m)^  scheduler  scheduler  DDPM, \d+ training steps, .*; no weights; 0 parameters$", run.Out);
        Assert.Matches(@"(?m)^  unet       unet       \d+ levels .*; F32; [\d,]+ parameters$", run.Out);
        Assert.Matches(@"(?m)^decoder:    \. — Kandinsky 2\.2 decoder: unet \+ scheduler \(no movq", run.Out);
        using var unet = UNet2DConditionModel.FromPretrained(Path.Combine(decoder, "unet"));
        Assert.Equal(unet.parameters().Sum(p => p.numel()), Parameters(run.Out));
    }

    /// <summary>The shipped model root holds an encoder and a decoder: every component is listed and the total is their sum.</summary>
    [Fact]
    public async Task FolderOfSeveralComponentsListsEach()
    {
        string root = ShippedShapesModel.Require();
        var run = await CliRun.Public("inspect", root);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Matches(@"(?m)^family:\s+collection \(3 components\)$", run.Out);
        var lines = Regex.Matches(run.Out, @"(?m)^  (\S+)\s+(clip_vision|unet|scheduler)\s+.*; ([\d,]+) parameters$");
        Assert.Equal(new[] { "decoder/scheduler", "decoder/unet", "encoder" }, lines.Select(m => m.Groups[1].Value));
        Assert.Matches(@"(?m)^  encoder\s+clip_vision\s+\d+ layers × \d+ heads, width \d+, patch \d+, image \d+", run.Out);
        Assert.Matches(@"(?m)^decoder:    decoder — Kandinsky 2\.2 decoder", run.Out);
        long sum = lines.Sum(m => long.Parse(m.Groups[3].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture));
        Assert.Equal(sum, Parameters(run.Out));
        using var encoder = HookedVitFamilies.FromPretrained(Path.Combine(root, "encoder"));
        Assert.Contains($"; F32; {encoder.parameters().Sum(p => p.numel()).ToString("N0", CultureInfo.InvariantCulture)} parameters", run.Out);
    }

    /// <summary>An empty folder, or one whose only config is of an unknown family, is bad input: exit 1, one line.</summary>
    [Fact]
    public async Task UnknownFolderIsOneLineBadInput()
    {
        var empty = Fixtures.TempFolder();
        (await CliRun.Public("inspect", empty)).AssertOneLineError(1, "holds no model component");
        var other = Fixtures.TempFolder();
        Directory.CreateDirectory(Path.Combine(other, "text"));
        File.WriteAllText(Path.Combine(other, "text", "config.json"), """{"model_type": "bert"}""");
        (await CliRun.Public("inspect", other)).AssertOneLineError(1, "holds no model component");
    }

    private static long Parameters(string output)
    {
        var m = Regex.Match(output, @"(?m)^parameters: ([\d,]+) ");
        Assert.True(m.Success, output);
        return long.Parse(m.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
    }
}
