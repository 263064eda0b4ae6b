using System.Diagnostics;
using DiffusionSteeringLens.Models.Kandinsky.MoVq;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Kandinsky.MoVq;

/// <summary>The full-size Kandinsky 2.2 MoVQ, built on the meta device, has exactly the reference's keys and shapes.</summary>
public sealed class VqModelManifestTests
{
    /// <summary>Keys and shapes equal <c>kandinsky22_movq.txt</c>; 67,832,495 parameters; nothing allocated.</summary>
    [Fact]
    [Trait("Category", "Manifest")]
    public void Full_size_model_matches_manifest_on_meta()
    {
        var folder = Fixtures.Golden("manifests");
        var config = VqModelConfig.Load(Path.Combine(folder, "kandinsky22_movq.config.json"));
        var (expected, declaredParameters, declaredTensors) = ManifestFile.Read(Path.Combine(folder, "kandinsky22_movq.txt"));
        Assert.Equal(declaredTensors, expected.Count);

        using var process = Process.GetCurrentProcess();
        process.Refresh();
        long before = process.WorkingSet64;
        using var model = new VqModel(config, torch.META);
        process.Refresh();
        long grown = process.WorkingSet64 - before;

        var stateDict = model.state_dict();
        Assert.All(stateDict.Values, t => Assert.Equal(DeviceType.META, t.device_type));
        var actual = stateDict.ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
        var missing = expected.Keys.Except(actual.Keys).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var extra = actual.Keys.Except(expected.Keys).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var wrongShape = expected.Keys.Intersect(actual.Keys)
            .Where(k => !expected[k].SequenceEqual(actual[k]))
            .Select(k => $"{k}: manifest [{string.Join(",", expected[k])}] vs model [{string.Join(",", actual[k])}]").ToList();
        Assert.True(missing.Count + extra.Count + wrongShape.Count == 0,
            $"missing {missing.Count}: {string.Join(" ", missing.Take(20))}\nextra {extra.Count}: {string.Join(" ", extra.Take(20))}\nshape {wrongShape.Count}: {string.Join(" ", wrongShape.Take(20))}");

        long total = actual.Values.Sum(s => s.Aggregate(1L, (a, b) => a * b));
        Assert.Equal(67_832_495L, total);
        Assert.Equal(declaredParameters, total);
        Assert.Equal(8, model.ScaleFactor);
        // fp32 weights would take 271 MB; a meta build needs only the module objects.
        Assert.True(grown < 64L * 1024 * 1024, $"building on meta grew the working set by {grown / (1024.0 * 1024):F1} MiB");
    }
}
