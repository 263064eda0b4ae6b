using System.Diagnostics;
using DiffusionSteeringLens.Models.Kandinsky.MoVq;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Kandinsky.MoVq;

/// <summary>The full-size MoVQ graph (not just its keys) runs: CPU build with placeholder weights, small latent.</summary>
public sealed class VqModelFullSizeSmokeTests
{
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public VqModelFullSizeSmokeTests(Xunit.Abstractions.ITestOutputHelper output) => _output = output;

    [Fact]
    [Trait("Category", "Manifest")]
    public void Full_size_decoder_runs_on_a_small_latent()
    {
        var config = VqModelConfig.Load(Path.Combine(Fixtures.Golden("manifests"), "kandinsky22_movq.config.json"));
        using var model = new VqModel(config);
        torch.manual_seed(3);
        using var latents = torch.randn(1, 4, 8, 8);
        var watch = Stopwatch.StartNew();
        using var image = model.Decode(latents);
        _output.WriteLine($"full-size MoVQ decode [1,4,8,8] -> 64x64: {watch.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(new long[] { 1, 3, 64, 64 }, image.shape);
        using var finite = image.isfinite().all();
        Assert.True(finite.item<bool>());
    }
}
