using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Kandinsky.Unet;

/// <summary>The full-size Kandinsky 2.2 UNet, built on the meta device, has exactly the reference's state-dict keys and shapes.</summary>
public sealed class UnetManifestTests
{
    /// <summary>Keys and shapes equal <c>kandinsky22_unet.txt</c>; 1,253,057,288 parameters; nothing allocated.</summary>
    [Fact]
    [Trait("Category", "Manifest")]
    public void FullSizeModelMatchesManifest()
    {
        var folder = Fixtures.Golden("manifests");
        var config = UNet2DConditionConfig.Load(Path.Combine(folder, "kandinsky22_unet.config.json"));
        var (expected, declaredParameters, declaredTensors) = ManifestFile.Read(Path.Combine(folder, "kandinsky22_unet.txt"));
        Assert.Equal(declaredTensors, expected.Count);

        long before = ResidentBytes();
        using var model = new UNet2DConditionModel(config, torch.META);
        // 5 GB of fp32 weights must not be allocated: allow only bookkeeping growth.
        long grown = ResidentBytes() - before;
        Assert.True(grown < 256L << 20, $"building on meta grew the resident set by {grown >> 20} MB");
        Assert.Throws<InvalidOperationException>(() => model.Predict(torch.empty(1, 4, 64, 64), torch.tensor(1L), torch.empty(1, 1280)));
        var actual = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
        Assert.All(model.state_dict().Values, t => Assert.Equal(DeviceType.META, t.device_type));

        var missing = expected.Keys.Except(actual.Keys).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var extra = actual.Keys.Except(expected.Keys).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var wrongShape = expected.Keys.Intersect(actual.Keys)
            .Where(k => !expected[k].SequenceEqual(actual[k]))
            .Select(k => $"{k}: manifest [{string.Join(",", expected[k])}] vs model [{string.Join(",", actual[k])}]").ToList();
        Assert.True(missing.Count + extra.Count + wrongShape.Count == 0,
            $"missing {missing.Count}: {string.Join(" ", missing.Take(20))}\nextra {extra.Count}: {string.Join(" ", extra.Take(20))}\nshape {wrongShape.Count}: {string.Join(" ", wrongShape.Take(20))}");

        long total = actual.Values.Sum(s => s.Aggregate(1L, (a, b) => a * b));
        Assert.Equal(1_253_057_288L, total);
        Assert.Equal(declaredParameters, total);
    }

    private static long ResidentBytes()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }

}
