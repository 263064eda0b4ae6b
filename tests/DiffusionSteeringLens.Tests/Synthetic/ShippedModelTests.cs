using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.Tests.TestSupport;
using DiffusionSteeringLens.Synthetic;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Synthetic;

[Trait("Category", "ShippedModel")]
public sealed class ShippedModelTests
{
    private readonly ITestOutputHelper _out;

    public ShippedModelTests(ITestOutputHelper output) => _out = output;

    private static string ModelFolder()
    {
        // The tests project copies only Fixtures/**: find the repository root (the folder with the solution) instead.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DiffusionSteeringLens.sln")))
                return Path.Combine(dir.FullName, ShippedShapesModel.RelativePath);
        throw new DirectoryNotFoundException("repository root (DiffusionSteeringLens.sln) not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void RequireFindsTheShippedFolders()
    {
        // From the test binaries the copy beside them (the CLI's content) may be found first; from the root, the repository's.
        Assert.True(File.Exists(Path.Combine(ShippedShapesModel.Require(), "encoder", "config.json")));
        var root = Path.GetFullPath(Path.Combine(ModelFolder(), "..", "..", ".."));
        Assert.Equal(Path.GetFullPath(ModelFolder()), ShippedShapesModel.Require(root));
        var testbed = ShippedModels.Require(ShippedModels.Marked96, root);
        Assert.Equal(Path.GetFullPath(Path.Combine(ModelFolder(), "..", "marked96", "seed2")), Path.GetFullPath(testbed));
        // Every testbed encoder (the planted-roles one of docs/toy-model.md §9 too) is decoded by the testbed's shared decoder.
        var shared = Path.GetFullPath(Path.Combine(ModelFolder(), "..", "marked96", "decoder"));
        Assert.Equal(shared, Path.GetFullPath(ShippedModels.DecoderFor(Path.Combine(testbed, "encoder"))!));
        Assert.Equal(shared, Path.GetFullPath(ShippedModels.DecoderFor(Path.Combine(ModelFolder(), "..", "marked96", "planted", "encoder"))!));
        Assert.Equal(Path.GetFullPath(Path.Combine(ModelFolder(), "decoder")), Path.GetFullPath(ShippedModels.DecoderFor(Path.Combine(ModelFolder(), "encoder"))!));
        Assert.Null(ShippedModels.DecoderFor(Fixtures.TempFolder()));
    }

    [Fact]
    public void RequireThrowsATypedExceptionOutsideTheRepositoryNamingWhereItLooked()
    {
        var outside = Fixtures.TempFolder();
        Assert.Null(ShippedModels.TryLocate(ShippedModels.Shapes32, outside));
        var e = Assert.Throws<ShippedModelNotFoundException>(() => ShippedShapesModel.Require(outside));
        Assert.Contains(outside, e.Message, StringComparison.Ordinal);
        Assert.Equal(ShippedModels.Shapes32, e.Model);
        Assert.Equal(new[] { outside }, e.SearchedFrom);
    }

    [Fact]
    public void ModelsCopiedBesideAnApplicationAreFoundFirst()
    {
        var app = Fixtures.TempFolder();
        var encoder = Path.Combine(app, ShippedModels.BesideApplicationFolder, "marked96", "seed2", "encoder");
        Directory.CreateDirectory(encoder);
        File.Copy(Path.Combine(ModelFolder(), "..", "marked96", "seed2", "encoder", "config.json"), Path.Combine(encoder, "config.json"));
        Assert.Equal(Path.GetFullPath(Path.Combine(app, "models", "marked96", "seed2")), ShippedModels.TryLocate(ShippedModels.Marked96, app));
        Assert.Null(ShippedModels.DecoderFor(encoder));                 // no testbed decoder copied beside it
        var unet = Path.Combine(app, ShippedModels.BesideApplicationFolder, "marked96", "decoder", "unet");
        Directory.CreateDirectory(unet);
        Assert.Equal(Path.GetDirectoryName(unet), ShippedModels.DecoderFor(encoder));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShippedModels.Marked96Seed(0));
    }

    [Fact]
    public void LoadsStrictlyAndDecodesShapeAndColour()
    {
        var folder = ModelFolder();
        using var encoder = ShippedShapesModel.LoadEncoder(folder);
        using var decoder = ShippedShapesModel.LoadDecoder(folder);
        Assert.Equal(32, encoder.Config.ImageSize);
        Assert.Equal(32, decoder.EmbeddingDim);
        Assert.True(decoder.Scheduler.Config.ClipSample);

        const int n = 8;
        var attrs = ShapeDomain.Sample(n, seed: 31337);
        using var images = ShapeDomain.Render(attrs);
        using var pixels = ShippedShapesModel.Preprocess(images);
        using var embeds = encoder.Forward(pixels);
        using var zero = encoder.ZeroImageEmbedding();
        using var decoded = decoder.Decode(embeds, zero, ShippedShapesModel.DecodeOptions with { Seed = 3 });
        Assert.Equal(new long[] { n, 3, 32, 32 }, decoded.shape);
        using var judge = new ShapeJudge();
        var verdicts = judge.Judge(decoded);
        int both = attrs.Zip(verdicts).Count(p => p.Second.Matches(p.First));
        foreach (var (a, v) in attrs.Zip(verdicts)) _out.WriteLine($"{a} → {v}");
        _out.WriteLine($"shape & colour kept: {both}/{n}");
        Assert.True(both >= 6, $"only {both}/{n} decodes keep shape and colour");
    }
}
