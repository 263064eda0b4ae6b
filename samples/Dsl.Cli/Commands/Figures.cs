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
        AllHeads(outputs, ranking);
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

    /// <summary>Every head's DSL picture as a layers × heads grid (caption: the score), so no head is hidden behind the top k.</summary>
    private static void AllHeads(RunOutputs outputs, HeadRanking ranking)
    {
        var rows = ranking.Rows.ToList();
        var layout = AllHeadsLayout(rows);
        var items = RunOutputs.Items(ranking.DslPictures!);
        try
        {
            var grid = layout.Select((inLayer, l) => ($"L{l}", (IReadOnlyList<torch.Tensor>)inLayer.Select(i => items[i]).ToArray(),
                (IReadOnlyList<string>)inLayer.Select(i => RunOutputs.Score(rows[i].DslPrimary)).ToArray())).ToArray();
            outputs.Grid("grid-all-heads-dsl.png", "Every head, DSL (layers × heads; caption: DSL score)", grid,
                Enumerable.Range(0, layout[0].Length).Select(h => $"H{h}").ToArray());
        }
        finally { items.ForEach(t => t.Dispose()); }
    }

    /// <summary>For each layer, for each head, the index of that head's row (and picture) in <paramref name="rows"/>.</summary>
    /// <exception cref="InvalidOperationException">A head is missing: the grid would shift columns.</exception>
    internal static int[][] AllHeadsLayout(IReadOnlyList<HeadScoreRow> rows)
    {
        int layers = rows.Max(h => h.Head.Layer) + 1, perLayer = rows.Max(h => h.Head.Head) + 1;
        var index = rows.Select((r, i) => (r, i)).ToDictionary(x => (x.r.Head.Layer, x.r.Head.Head), x => x.i);
        return Enumerable.Range(0, layers).Select(l => Enumerable.Range(0, perLayer).Select(h =>
            index.TryGetValue((l, h), out var i) ? i : throw new InvalidOperationException($"head L{l}H{h} is missing from the ranking.")).ToArray()).ToArray();
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
