using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;

namespace DiffusionSteeringLens.Reports;

/// <summary>Flattens <see cref="StudyResults"/> into long-format <see cref="ScoreRow"/>s and writes them as CSV.</summary>
public static class ScoreTable
{
    /// <summary>Every score of the results, one row each.</summary>
    public static IEnumerable<ScoreRow> Flatten(StudyResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        foreach (var r in results.LayerSweep ?? Array.Empty<TargetReadout>())
            foreach (var row in Readout("layer_sweep", r)) yield return row;
        foreach (var r in results.Targets ?? Array.Empty<TargetReadout>())
            foreach (var row in Readout("targets", r)) yield return row;
        foreach (var h in results.Heads ?? Array.Empty<HeadScoreRow>())
        {
            yield return new("heads", h.Head, "dsl_embedding", h.DslScore);
            yield return new("heads", h.Head, "dsl_rank", h.DslRank);
            yield return new("heads", h.Head, "dl_embedding", h.DlScore);
            yield return new("heads", h.Head, "dl_rank", h.DlRank);
            if (h.DslImageScore is { } di) yield return new("heads", h.Head, "dsl_image", di);
            if (h.DlImageScore is { } li) yield return new("heads", h.Head, "dl_image", li);
            if (h.Importance is { } imp) yield return new("heads", h.Head, "importance", imp);
        }
        if (results.Validation is { } v)
        {
            yield return new("validation", "dsl", "spearman_rho", v.Dsl.Rho);
            yield return new("validation", "dsl", "permutation_p", v.Dsl.PValue);
            yield return new("validation", "dl_heads", "spearman_rho", v.Dl.Rho);
            yield return new("validation", "dl_heads", "permutation_p", v.Dl.PValue);
            yield return new("validation", "trajectories", "normalized_auc", v.Trajectories.NormalizedAuc);
            foreach (var t in new[] { v.Trajectories.Dsl, v.Trajectories.Greedy }.Concat(v.Trajectories.Random))
            {
                yield return new("validation", "trajectory:" + t.Order, "auc", t.Auc);
                for (int k = 0; k < t.Similarity.Count; k++)
                    yield return new("validation", "trajectory:" + t.Order, $"similarity@{k}", t.Similarity[k]);
            }
        }
        if (results.Overlay is { } o)
        {
            yield return new("overlay", "overlay", "similarity_before", o.OverlaySimilarityBefore);
            yield return new("overlay", "overlay", "similarity_after", o.OverlaySimilarityAfter);
            yield return new("overlay", "overlay", "random_similarity_after", o.RandomOverlaySimilarityAfter);
            yield return new("overlay", "base", "similarity_before", o.BaseSimilarityBefore);
            yield return new("overlay", "base", "similarity_after", o.BaseSimilarityAfter);
            foreach (var h in o.TopHeads) yield return new("overlay", h.Label, "overlay_score", h.Score);
        }
        foreach (var (stage, seconds) in results.TimingsSeconds ?? new Dictionary<string, double>())
            yield return new("timings", stage, "seconds", seconds);
    }

    /// <summary>Writes <see cref="Flatten"/> as CSV atomically.</summary>
    public static void WriteCsv(string path, StudyResults results) => ResultsWriter.WriteCsv(path, Flatten(results));

    private static IEnumerable<ScoreRow> Readout(string section, TargetReadout r)
    {
        var lens = r.Lens.ToLowerInvariant();
        yield return new(section, r.Target, lens + "_embedding", r.EmbeddingSimilarity);
        if (r.ImageSimilarity is { } s) yield return new(section, r.Target, lens + "_image", s);
    }
}
