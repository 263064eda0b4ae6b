using DiffusionSteeringLens.Experiments;
using TorchSharp;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>The standard grids: input, DL layer sweep row, top-k heads (DSL vs DL side by side), steered targets, overlay before/after.</summary>
internal static class Figures
{
    public static void Input(RunOutputs outputs, Session session)
    {
        using var first = session.Input.Pictures.select(0, 0);
        outputs.Grid("input.png", "Input (as the encoder sees it)", new[] { ("input", (IReadOnlyList<torch.Tensor>)new[] { first }, (IReadOnlyList<string>)Array.Empty<string>()) }, first: true);
    }

    public static void LayerSweep(RunOutputs outputs, Session session, ReadoutSweep sweep)
    {
        if (sweep.Pictures is null) return;
        using var input = session.Input.Pictures.select(0, 0);
        var items = RunOutputs.Items(sweep.Pictures);
        try
        {
            var images = new List<torch.Tensor> { input };
            images.AddRange(items);
            var captions = new List<string> { "input" };
            bool layerSweep = sweep.Readouts.All(r => r.Target == $"resid_post:{r.Layer}");
            captions.AddRange(sweep.Readouts.Select(r => $"{(layerSweep ? $"L{r.Layer}" : r.Target)} {RunOutputs.Score(r.ImageSimilarity ?? r.EmbeddingSimilarity)}"));
            outputs.Grid(layerSweep ? "grid-layer-sweep.png" : "grid-dl-targets.png",
                layerSweep ? "Diffusion Lens layer sweep (resid_post; caption: similarity to input)" : "Diffusion Lens read-outs (caption: similarity to input)", new[] { ("DL", (IReadOnlyList<torch.Tensor>)images, (IReadOnlyList<string>)captions) });
        }
        finally { items.ForEach(t => t.Dispose()); }
    }

    public static void TopHeads(RunOutputs outputs, HeadRanking ranking, int topK)
    {
        if (ranking.DslPictures is null || ranking.DlPictures is null) return;
        var top = ranking.ByDslRank.Take(topK).ToArray();
        var index = top.Select(h => ranking.Rows.ToList().IndexOf(h)).ToArray();
        var dsl = RunOutputs.Items(ranking.DslPictures, index);
        var dl = RunOutputs.Items(ranking.DlPictures, index);
        try
        {
            outputs.Grid("grid-top-heads.png", $"Top {top.Length} heads by DSL score: DSL vs DL on the same head", new[]
            {
                ("DSL", (IReadOnlyList<torch.Tensor>)dsl, (IReadOnlyList<string>)top.Select(h => RunOutputs.Score(h.DslPrimary)).ToArray()),
                ("DL", dl, top.Select(h => RunOutputs.Score(h.DlPrimary)).ToArray()),
            }, top.Select(h => $"#{h.DslRank} {h.Head}").ToArray());
        }
        finally
        {
            dsl.ForEach(t => t.Dispose());
            dl.ForEach(t => t.Dispose());
        }
    }

    public static void Targets(RunOutputs outputs, ReadoutSweep dsl, ReadoutSweep dl)
    {
        if (dsl.Pictures is null || dl.Pictures is null) return;
        var a = RunOutputs.Items(dsl.Pictures);
        var b = RunOutputs.Items(dl.Pictures);
        try
        {
            outputs.Grid("grid-targets.png", "Steered targets: DSL vs DL side by side", new[]
            {
                ("DSL", (IReadOnlyList<torch.Tensor>)a, (IReadOnlyList<string>)dsl.Readouts.Select(r => RunOutputs.Score(r.ImageSimilarity ?? r.EmbeddingSimilarity)).ToArray()),
                ("DL", b, dl.Readouts.Select(r => RunOutputs.Score(r.ImageSimilarity ?? r.EmbeddingSimilarity)).ToArray()),
            }, dsl.Readouts.Select(r => r.Target).ToArray());
        }
        finally
        {
            a.ForEach(t => t.Dispose());
            b.ForEach(t => t.Dispose());
        }
    }

    /// <summary>The overlay study's first evaluation image: base, with overlay, and (when decoding) the decoded output before/after ablation.</summary>
    public static void Overlay(RunOutputs outputs, StudyImages images, OverlayOutcome outcome)
    {
        using var baseP = images.Evaluation.Pictures.narrow(0, 0, 1);
        using var overlaidBatch = images.ComposeOverlay(baseP);
        using var basePicture = baseP.select(0, 0);
        using var overlaid = overlaidBatch.select(0, 0);
        var pictures = new List<torch.Tensor> { basePicture, overlaid };
        var captions = new List<string> { "base", "with overlay" };
        var decoded = outcome.Pictures is null ? new List<torch.Tensor>() : RunOutputs.Items(outcome.Pictures);
        try
        {
            var r = outcome.Result;
            if (decoded.Count == 2)
            {
                pictures.AddRange(decoded);
                captions.Add("decoded, nothing ablated");
                captions.Add($"decoded, {r.TopHeads.Count} DSL heads ablated");
            }
            // The title states the measured presence so the picture is not read as a removal when the overlay stays.
            outputs.Grid("grid-overlay.png",
                $"Overlay study (first evaluation image): presence {r.PresenceBefore:0.00} → {r.PresenceAfter:0.00} over {r.EvaluationImages} images after ablating {string.Join(", ", r.TopHeads.Select(h => h.Label))}",
                new[] { ("overlay", (IReadOnlyList<torch.Tensor>)pictures, (IReadOnlyList<string>)captions) });
        }
        finally { decoded.ForEach(t => t.Dispose()); }
    }
}
