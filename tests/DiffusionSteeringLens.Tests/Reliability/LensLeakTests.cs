using System.Diagnostics;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Synthetic;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Reliability;

/// <summary>
/// Leak check of issue #12: 1,000 lens calls on the shipped model (Diffusion Lens read-out of every layer, decoded by the
/// shipped decoder) keep the process's resident memory within 5 % of its size after warm-up.
/// </summary>
public sealed class LensLeakTests(ITestOutputHelper output)
{
    private const int WarmUpCalls = 50;
    private const int Calls = 1_000;

    [Fact]
    public void AThousandLensCallsKeepResidentMemoryWithinFivePercent()
    {
        var folder = ShippedShapesModel.Locate() ?? throw new DirectoryNotFoundException("samples/models/shapes32 not found above " + AppContext.BaseDirectory);
        using var encoder = ShippedShapesModel.LoadEncoder(folder);
        using var decoder = ShippedShapesModel.LoadDecoder(folder);
        var lens = new DiffusionLens(encoder);
        var targets = LensTarget.LayerSweep(encoder.Architecture);
        using var images = ShapeDomain.Render(ShapeDomain.Sample(1, seed: 5));
        using var pixels = ShippedShapesModel.Preprocess(images);
        using var zero = encoder.ZeroImageEmbedding();
        // Two denoising steps: every decoder code path runs (guidance, scheduler, clipping) at a cost the suite can afford.
        var options = ShippedShapesModel.DecodeOptions with { NumInferenceSteps = 2, Seed = 11 };

        void Call()
        {
            using var embeds = lens.ComputeEmbeddings(pixels, targets);
            using var flat = embeds.reshape(-1, embeds.shape[^1]);
            using var pictures = decoder.Decode(flat, zero, options);
        }

        for (int i = 0; i < WarmUpCalls; i++) Call();
        long rssBefore = Rss();
        long liveBefore = torch.Tensor.TotalCount;
        var watch = Stopwatch.StartNew();
        long peak = rssBefore;
        for (int i = 0; i < Calls; i++)
        {
            Call();
            if (i % 100 == 99) peak = Math.Max(peak, Rss());
        }
        long rssAfter = Rss();
        long liveAfter = torch.Tensor.TotalCount;
        double growth = (rssAfter - rssBefore) / (double)rssBefore;
        output.WriteLine($"{Calls} lens calls ({targets.Count} read-outs decoded each) in {watch.Elapsed.TotalSeconds:0.0} s; " +
                         $"RSS after warm-up {rssBefore / 1048576.0:0.0} MiB → {rssAfter / 1048576.0:0.0} MiB ({growth:+0.00%;-0.00%}), " +
                         $"peak {peak / 1048576.0:0.0} MiB; live tensors {liveBefore} → {liveAfter}");

        Assert.True(liveAfter <= liveBefore, $"live tensors grew from {liveBefore} to {liveAfter} over {Calls} calls");
        Assert.True(growth < 0.05, $"RSS grew {growth:P2} over {Calls} lens calls ({rssBefore} → {rssAfter} bytes)");
    }

    private static long Rss()
    {
        // Collect first, so tensors left to the finalizer (by this or other tests) are not counted as growth.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var fields = File.ReadAllText("/proc/self/statm").Split(' ');
        return long.Parse(fields[1]) * Environment.SystemPageSize;
    }
}
