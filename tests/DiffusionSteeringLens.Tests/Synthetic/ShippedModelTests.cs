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
    public void LocateFindsTheShippedFolder()
    {
        var found = ShippedShapesModel.Locate();
        Assert.NotNull(found);
        Assert.Equal(Path.GetFullPath(ModelFolder()), Path.GetFullPath(found!));
    }

    [Fact]
    public void RequireThrowsOutsideTheRepositoryNamingWhereItLooked()
    {
        var outside = Fixtures.TempFolder();
        Assert.Null(ShippedShapesModel.Locate(outside));
        var e = Assert.Throws<DirectoryNotFoundException>(() => ShippedShapesModel.Require(outside));
        Assert.Contains(outside, e.Message, StringComparison.Ordinal);
        Assert.Equal(ShippedShapesModel.Locate(), ShippedShapesModel.Require());
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
