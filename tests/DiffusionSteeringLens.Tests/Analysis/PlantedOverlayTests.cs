using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Lenses;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Analysis;

/// <summary>
/// Planted overlay heads: four overlays, each visible to exactly one head (<see cref="PlantedOverlayModel"/>). The
/// overlay study with the DSL lens must recover each head from calibration images and remove its overlay on
/// disjoint evaluation images better than every other head subset of the same size.
/// </summary>
public sealed class PlantedOverlayTests
{
    private const int HeadsPerLayer = 4, AllHeads = 8;
    private readonly ITestOutputHelper _out;

    public PlantedOverlayTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void EachPlantedHeadAttendsToItsCornerAtTheClsToken()
    {
        using var vit = PlantedOverlayModel.Build(seed: 1);
        using var pictures = PlantedOverlayModel.BasePictures(4, seed: 3);
        var pair = PlantedOverlayModel.Pair(pictures, new[] { 0, 1, 2, 3 });
        using var _ = pair.Base;
        using var __ = pair.Overlaid;
        using var run = vit.RunWithCache(pair.Overlaid, CacheRequest.ForNames(new[] { HookNames.Pattern(0), HookNames.Pattern(1) }));
        for (int k = 0; k < 4; k++)
        {
            var (layer, head) = PlantedOverlayModel.Heads[k];
            var (row, col) = PlantedOverlayModel.Corner(k);
            int token = 1 + row / 4 * 4 + col / 4;
            using var weight = run.Cache[HookNames.Pattern(layer)].select(1, head).select(1, 0).select(1, token); // [B]
            float min = weight.min().item<float>();
            _out.WriteLine($"overlay {k}: L{layer}H{head} puts ≥ {min:F6} of the CLS attention on token {token}");
            Assert.True(min > 0.99f, $"L{layer}H{head} attention on its corner {min}");
        }
    }

    [Fact]
    public void EachOverlayIsRemovedByExactlyItsPlantedHeadChosenByDsl()
    {
        using var vit = PlantedOverlayModel.Build(seed: 1);
        for (int k = 0; k < 4; k++)
        {
            WithStudyPairs(new[] { k }, (calibration, evaluation) =>
            {
                var dsl = OverlayStudy.Run(new SteeringLens(vit), calibration, evaluation, topK: 1);
                var dl = OverlayStudy.Run(new DiffusionLens(vit), calibration, evaluation, topK: 1);
                var planted = PlantedOverlayModel.Heads[k];
                _out.WriteLine($"overlay {k} (planted L{planted.Layer}H{planted.Head}): DSL chose {dsl.TopHeads[0].Label}, presence {dsl.PresenceBefore:F3} → {dsl.PresenceAfter:F4}, "
                    + $"{dsl.Percentile:P1} of {dsl.SubsetsCompared} single heads leave more, p = {dsl.PValue:F3}; "
                    + $"DL-on-heads chose {dl.TopHeads[0].Label} (presence after {dl.PresenceAfter:F4}); mean over all single heads {dsl.RandomPresenceMean:F3}");
                Assert.Equal(planted, (dsl.TopHeads[0].Head.Layer, dsl.TopHeads[0].Head.Head));
                Assert.True(Math.Abs(dsl.PresenceAfter) < 0.05, $"overlay {k}: presence after ablating its head {dsl.PresenceAfter:F4}");
                Assert.True(dsl.Exhaustive);
                Assert.Equal(AllHeads, dsl.SubsetsCompared);
                // Best of all: every other single head leaves more of the overlay, so p is the smallest attainable 1/8.
                Assert.Equal((AllHeads - 1) / (double)AllHeads, dsl.Percentile, 12);
                Assert.Equal(1.0 / AllHeads, dsl.PValue, 12);
            });
        }
    }

    [Fact]
    public void NamedPlantedHeadsAreMeasuredAsGroundTruthRowsAndLocatedInEveryRanking()
    {
        using var vit = PlantedOverlayModel.Build(seed: 1);
        const int k = 2;
        WithStudyPairs(new[] { k }, (calibration, evaluation) =>
        {
            var carrier = new HeadTarget(PlantedOverlayModel.Heads[k].Layer, PlantedOverlayModel.Heads[k].Head);
            var other = new HeadTarget(PlantedOverlayModel.Heads[(k + 1) % 4].Layer, PlantedOverlayModel.Heads[(k + 1) % 4].Head);
            var r = OverlayStudy.Run(new SteeringLens(vit), calibration, evaluation, topK: 1, planted: new[] { carrier, other });
            _out.WriteLine(string.Join("; ", r.Planted.Select(p => $"{p.Selector}: {p.PresenceAfter:F4}, removed {p.RemovedImages}")));
            _out.WriteLine(string.Join("; ", r.PlantedRanks.Select(kv => $"{kv.Key}: {string.Join(",", kv.Value)}")));
            // Rows: the whole set, then each head alone, in the order named.
            Assert.Equal(new[] { $"planted {carrier.Label}+{other.Label}", $"planted {carrier.Label}", $"planted {other.Label}" }, r.Planted.Select(p => p.Selector));
            // The carrier alone is exactly the lens's own top-1 choice here, so its row must equal the lens's measurement.
            Assert.Equal(r.PresenceAfter, r.Planted[1].PresenceAfter, 6); // same set; only the batch row it was computed in differs
            Assert.Equal(8, r.Planted[1].RemovedImages);
            Assert.Empty(r.SilentHeads);
            // results.json carries the removal rate's Wilson interval as numbers (a value tuple would serialise as {}).
            using (var json = System.Text.Json.JsonDocument.Parse(System.Text.Json.JsonSerializer.Serialize(r, ResultsWriter.JsonOptions)))
            {
                Assert.Equal(r.RemovalInterval.Low, json.RootElement.GetProperty("removalIntervalLow").GetDouble(), 12);
                Assert.Equal(r.RemovalInterval.High, json.RootElement.GetProperty("removalIntervalHigh").GetDouble(), 12);
                Assert.False(json.RootElement.TryGetProperty("removalInterval", out _));
            }
            Assert.True(Math.Abs(r.Planted[0].PresenceAfter) < 0.05, $"set {r.Planted[0].PresenceAfter}");
            // The other overlay's head cannot see this overlay: ablating it alone leaves it whole.
            Assert.True(r.Planted[2].PresenceAfter > 0.95, $"other head alone {r.Planted[2].PresenceAfter}");
            Assert.Equal(0, r.Planted[2].RemovedImages);
            Assert.Equal(new[] { "lens", "DL-on-heads", "output-change norm" }, r.PlantedRanks.Keys.OrderBy(x => x == "lens" ? 0 : 1).ThenBy(x => x));
            Assert.All(r.PlantedRanks.Values, ranks => Assert.Equal(1, ranks[0]));
            Assert.All(r.PlantedRanks.Values, ranks => Assert.True(ranks[1] > 1));
            long passes = vit.PassCount;
            var outside = Assert.Throws<ArgumentException>(() => OverlayStudy.Run(new SteeringLens(vit), calibration, evaluation, topK: 1, planted: new[] { new HeadTarget(5, 0) }));
            Assert.Contains("L5H0", outside.Message);
            Assert.Equal(passes, vit.PassCount);                                 // refused before any forward
        });
    }

    [Fact]
    public void ASilentHeadIsFlaggedAndRankedLastByEveryRule()
    {
        using var vit = PlantedOverlayModel.Build(seed: 1);
        // Silence a head that carries no overlay: its out-projection columns are zeroed, so it writes nothing. Its lens
        // score is then exactly 0, which outranks every slightly negative score unless silent heads are demoted (on the
        // planted testbed DSL put its dead head second for the dots mark before they were).
        var silent = new HeadTarget(0, 1);
        int headDim = (int)(vit.Config.HiddenSize / vit.Config.NumAttentionHeads);
        using (torch.no_grad())
        {
            var w = vit.named_parameters().Single(p => p.name == $"vision_model.encoder.layers.{silent.Layer}.self_attn.out_proj.weight").parameter;
            w[.., (silent.Head * headDim)..((silent.Head + 1) * headDim)] = 0f;
        }
        const int k = 2;
        WithStudyPairs(new[] { k }, (calibration, evaluation) =>
        {
            var carrier = new HeadTarget(PlantedOverlayModel.Heads[k].Layer, PlantedOverlayModel.Heads[k].Head);
            var r = OverlayStudy.Run(new SteeringLens(vit), calibration, evaluation, topK: 1, planted: new[] { carrier, silent });
            _out.WriteLine(string.Join("; ", r.PlantedRanks.Select(kv => $"{kv.Key}: {string.Join(",", kv.Value)}")));
            Assert.Equal(new[] { silent.Label }, r.SilentHeads.Select(h => h.Label));
            Assert.Equal(carrier.Label, r.TopHeads[0].Label);
            Assert.All(r.PlantedRanks.Values, ranks => Assert.Equal(8, ranks[1]));      // last of 8 heads, for every rule
            Assert.Contains("Silent", DiffusionSteeringLens.Experiments.Verdicts.Overlay(r));
        });
    }

    [Fact]
    public void AllFourOverlaysAreRemovedByExactlyThePlantedHeadsAtTheSmallestExactP()
    {
        using var vit = PlantedOverlayModel.Build(seed: 1);
        var all = new[] { 0, 1, 2, 3 };
        WithStudyPairs(all, (calibration, evaluation) =>
        {
            var dsl = OverlayStudy.Run(new SteeringLens(vit), calibration, evaluation, topK: 4);
            var dl = OverlayStudy.Run(new DiffusionLens(vit), calibration, evaluation, topK: 4);
            string Labels(OverlayStudyResult r) => string.Join(", ", r.TopHeads.Select(h => h.Label));
            const int subsets = 70; // C(8, 4)
            _out.WriteLine($"DSL chose {Labels(dsl)}: presence {dsl.PresenceBefore:F3} → {dsl.PresenceAfter:F4}, {dsl.Percentile:P1} of {dsl.SubsetsCompared} 4-subsets leave more, "
                + $"p = {dsl.PValue:F4} (1/{subsets} = {1.0 / subsets:F4}); cos(ablated, clean) on clean images {dsl.CleanSimilarityAfter:F3}");
            _out.WriteLine($"DL-on-heads chose {Labels(dl)}: presence after {dl.PresenceAfter:F4}, p = {dl.PValue:F4}");
            _out.WriteLine($"a random 4-subset leaves {dsl.RandomPresenceMean:F3} on average (cos on clean images {dsl.RandomCleanSimilarityAfter:F3})");
            var chosen = dsl.TopHeads.Select(h => (h.Head.Layer, h.Head.Head)).OrderBy(h => h).ToArray();
            Assert.Equal(PlantedOverlayModel.Heads.OrderBy(h => h).ToArray(), chosen);
            Assert.True(Math.Abs(dsl.PresenceAfter) < 0.05, $"presence after {dsl.PresenceAfter:F4}");
            Assert.True(dsl.Exhaustive);
            Assert.Equal(subsets, dsl.SubsetsCompared);
            Assert.Equal(1.0 / subsets, dsl.PValue, 12);
            Assert.True(dsl.PValue < 0.05);
            // Per image: every evaluation image loses its overlays; the average random subset removes them from fewer.
            _out.WriteLine($"removed on {dsl.RemovedImages} of {dsl.EvaluationImages} images (Wilson {dsl.RemovalInterval.Low:F3}–{dsl.RemovalInterval.High:F3}); random subsets {dsl.RandomRemovalRate:P1}");
            Assert.Equal(dsl.EvaluationImages, dsl.RemovedImages);
            Assert.True(dsl.RandomRemovalRate < 0.5, $"random subsets removed the overlay from {dsl.RandomRemovalRate:P1} of images");

            // The selectors measured beside the lens: the DL row of the DSL study is the study run with the DL lens
            // (same heads, same presence, same p — one protocol), and the lens-free output-change norm also finds
            // the planted heads here, because only they see the overlaid corners.
            foreach (var b in dsl.Baselines)
                _out.WriteLine($"selector {b.Selector}: {string.Join(", ", b.Heads.Select(h => h.Head.Label))}, presence after {b.PresenceAfter:F4}, removed {b.RemovedImages}, p = {b.PValue:F4}");
            Assert.Equal(new[] { "DL-on-heads", "output-change norm" }, dsl.Baselines.Select(b => b.Selector).ToArray());
            var dlRow = dsl.Baselines[0];
            Assert.Equal(dl.TopHeads.Select(h => h.Head).OrderBy(h => h.Index(HeadsPerLayer)), dlRow.Heads.Select(h => h.Head).OrderBy(h => h.Index(HeadsPerLayer)));
            Assert.Equal(dl.PresenceAfter, dlRow.PresenceAfter, 12);
            Assert.Equal(dl.PValue, dlRow.PValue, 12);
            Assert.Equal(dl.RemovedImages, dlRow.RemovedImages);
            var byChange = dsl.Baselines[1].Heads.Select(h => (h.Head.Layer, h.Head.Head)).OrderBy(h => h).ToArray();
            Assert.Equal(PlantedOverlayModel.Heads.OrderBy(h => h).ToArray(), byChange);
            Assert.Equal(1.0 / subsets, dsl.Baselines[1].PValue, 12);
        });
    }

    /// <summary>
    /// Runs <paramref name="body"/> on the studies' calibration and evaluation pairs (8 base pictures each, seeds 10 and
    /// 20, with <paramref name="overlays"/> composed in) and disposes them afterwards.
    /// </summary>
    private static void WithStudyPairs(IReadOnlyList<int> overlays, Action<OverlayPair, OverlayPair> body)
    {
        using var calPictures = PlantedOverlayModel.BasePictures(8, seed: 10);
        using var evalPictures = PlantedOverlayModel.BasePictures(8, seed: 20);
        var calibration = PlantedOverlayModel.Pair(calPictures, overlays);
        var evaluation = PlantedOverlayModel.Pair(evalPictures, overlays);
        try
        {
            body(calibration, evaluation);
        }
        finally
        {
            calibration.Base.Dispose(); calibration.Overlaid.Dispose();
            evaluation.Base.Dispose(); evaluation.Overlaid.Dispose();
        }
    }
}
