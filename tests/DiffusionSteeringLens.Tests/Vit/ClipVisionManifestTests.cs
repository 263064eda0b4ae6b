using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Vit;

/// <summary>The full-size ViT-bigG/14 built on the META device has exactly the real checkpoint's keys and shapes.</summary>
[Trait("Category", "Manifest")]
public sealed class ClipVisionManifestTests
{
    private readonly ITestOutputHelper _out;

    public ClipVisionManifestTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void BigGOnMetaMatchesManifest()
    {
        var folder = Fixtures.Golden("manifests");
        var config = ClipVisionConfig.Load(Path.Combine(folder, "clip_vision_bigG.config.json"));
        var lines = File.ReadAllLines(Path.Combine(folder, "clip_vision_bigG.txt"));
        long manifestParams = long.Parse(lines[2].Split(':')[1].Trim());
        var expected = lines.Skip(4).Where(l => l.Length > 0)
            .Select(l => l.Split('\t'))
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);

        long rssBefore = Environment.WorkingSet;
        using var model = new ClipVisionModelWithProjection(config, torch.META, torch.ScalarType.Float32);
        long rssAfter = Environment.WorkingSet;

        var actual = model.state_dict().ToDictionary(kv => kv.Key, kv => string.Join(",", kv.Value.shape), StringComparer.Ordinal);
        var missing = expected.Keys.Except(actual.Keys).ToList();
        var extra = actual.Keys.Except(expected.Keys).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"missing: {string.Join(", ", missing.Take(10))}; extra: {string.Join(", ", extra.Take(10))}");
        var wrongShapes = expected.Where(kv => actual[kv.Key] != kv.Value).Select(kv => $"{kv.Key}: {actual[kv.Key]} vs {kv.Value}").ToList();
        Assert.True(wrongShapes.Count == 0, string.Join("\n", wrongShapes));

        long count = model.state_dict().Values.Sum(t => t.numel());
        Assert.Equal(1_844_907_264L, count);
        Assert.Equal(manifestParams, count);
        Assert.All(model.state_dict().Values, t => Assert.Equal(DeviceType.META, t.device_type));
        // 7.4 GB of float32 weights must not have been allocated.
        Assert.True(rssAfter - rssBefore < 512L * 1024 * 1024, $"RSS grew by {(rssAfter - rssBefore) / 1048576} MiB building on META.");
        _out.WriteLine($"tensors {actual.Count}, parameters {count:N0}, RSS growth {(rssAfter - rssBefore) / 1048576.0:F1} MiB");

        var a = model.Architecture;
        Assert.Equal((48, 16, 1664, 104, 8192, 1280, 257, 224), (a.NumLayers, a.NumHeads, a.ModelDim, a.HeadDim, a.MlpDim, a.OutputDim, a.NumTokens, a.ImageSize));
    }
}
