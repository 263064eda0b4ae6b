using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Reports;

/// <summary>Flattens <see cref="StudyResults"/> into long-format <see cref="ScoreRow"/>s and writes them as CSV.</summary>
internal static class ScoreTable
{
    /// <summary>Every score of the results, one row each.</summary>
    internal static IEnumerable<ScoreRow> Flatten(StudyResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        foreach (var r in results.LayerSweep ?? Array.Empty<TargetReadout>())
            foreach (var row in Readout("layer_sweep", r)) yield return row;
        foreach (var r in results.Targets ?? Array.Empty<TargetReadout>())
            foreach (var row in Readout("targets", r)) yield return row;
        foreach (var h in results.Heads ?? Array.Empty<HeadScoreRow>())
        {
            yield return new("heads", h.Head.Label, "dsl_embedding", h.DslScore);
            yield return new("heads", h.Head.Label, "dsl_rank", h.DslRank);
            yield return new("heads", h.Head.Label, "dl_embedding", h.DlScore);
            yield return new("heads", h.Head.Label, "dl_rank", h.DlRank);
            if (h.DslImageScore is { } di) yield return new("heads", h.Head.Label, "dsl_image", di);
            if (h.DlImageScore is { } li) yield return new("heads", h.Head.Label, "dl_image", li);
            if (h.Importance is { } imp) yield return new("heads", h.Head.Label, "importance", imp);
        }
        foreach (var h in results.ImageRanking?.Heads ?? Array.Empty<HeadScoreRow>())
        {
            yield return new("image_ranking", h.Head.Label, "dsl_embedding", h.DslScore);
            yield return new("image_ranking", h.Head.Label, "dsl_rank", h.DslRank);
            yield return new("image_ranking", h.Head.Label, "dl_embedding", h.DlScore);
            if (h.DslContrast is { } contrast) yield return new("image_ranking", h.Head.Label, "dsl_contrast", contrast);
            if (h.OutputNorm is { } norm) yield return new("image_ranking", h.Head.Label, "output_norm", norm);
        }
        if (results.Validation is { } v)
        {
            foreach (var l in v.Lenses)
            {
                var c = l.Correlation;
                yield return new("validation", l.Lens, "spearman_rho", c.Rho);
                yield return new("validation", l.Lens, "ci_low", c.CiLow);
                yield return new("validation", l.Lens, "ci_high", c.CiHigh);
                yield return new("validation", l.Lens, "p_one_sided", c.PValueOneSided);
                yield return new("validation", l.Lens, "p_two_sided", c.PValueTwoSided);
            }
            yield return new("validation", "dsl_minus_dl", "delta_rho", v.DslVsDl.Delta);
            yield return new("validation", "dsl_minus_dl", "ci_low", v.DslVsDl.CiLow);
            yield return new("validation", "dsl_minus_dl", "ci_high", v.DslVsDl.CiHigh);
            yield return new("validation", "dsl_minus_dl", "p_one_sided", v.DslVsDl.PValueOneSided);
            if (v.ContrastVsDl is { } cd)
            {
                yield return new("validation", "dsl_contrast_minus_dl", "delta_rho", cd.Delta);
                yield return new("validation", "dsl_contrast_minus_dl", "ci_low", cd.CiLow);
                yield return new("validation", "dsl_contrast_minus_dl", "ci_high", cd.CiHigh);
                yield return new("validation", "dsl_contrast_minus_dl", "p_one_sided", cd.PValueOneSided);
            }
            var t = v.Trajectories;
            yield return new("validation", "trajectories", "normalized_auc", t.NormalizedAuc);
            yield return new("validation", "trajectories", "dsl_percentile", t.DslPercentile);
            yield return new("validation", "trajectories", "p_value", t.PValue);
            yield return new("validation", "trajectories", "random_auc_mean", t.RandomAucs.Average());
            foreach (var tr in new[] { t.Dsl, t.Greedy, new Trajectory("random-mean", Array.Empty<HeadTarget>(), t.RandomMeanSimilarity) })
            {
                yield return new("validation", "trajectory:" + tr.Order, "auc", tr.Auc);
                for (int k = 0; k < tr.Similarity.Count; k++)
                    yield return new("validation", "trajectory:" + tr.Order, $"similarity@{k}", tr.Similarity[k]);
            }
            foreach (var h in v.Heads)
            {
                yield return new("validation_heads", h.Head.Label, "dsl_embedding", h.DslScore);
                yield return new("validation_heads", h.Head.Label, "dl_embedding", h.DlScore);
                if (h.OutputNorm is { } norm) yield return new("validation_heads", h.Head.Label, "output_norm", norm);
                if (h.Importance is { } imp) yield return new("validation_heads", h.Head.Label, "importance", imp);
            }
        }
        if (results.ImageSpace is { } imageSpace)
        {
            foreach (var l in imageSpace.Lenses)
            {
                yield return new("image_space", l.Lens, "rho", l.Correlation.Rho);
                yield return new("image_space", l.Lens, "ci_low", l.Correlation.CiLow);
                yield return new("image_space", l.Lens, "ci_high", l.Correlation.CiHigh);
                yield return new("image_space", l.Lens, "p_one_sided", l.Correlation.PValueOneSided);
            }
            yield return new("image_space", "DSL-DL", "delta_rho", imageSpace.DslVsDl.Delta);
            yield return new("image_space", "DSL-DL", "ci_low", imageSpace.DslVsDl.CiLow);
            yield return new("image_space", "DSL-DL", "ci_high", imageSpace.DslVsDl.CiHigh);
            yield return new("image_space", "DSL", "seed_agreement", imageSpace.DslSeedAgreement);
            yield return new("image_space", "DL-on-heads", "seed_agreement", imageSpace.DlSeedAgreement);
        }
        if (results.Overlay is { } o)
        {
            yield return new("overlay", "chosen", "presence_before", o.PresenceBefore);
            yield return new("overlay", "chosen", "presence_after", o.PresenceAfter);
            yield return new("overlay", "random_subsets", "presence_after_mean", o.RandomPresenceMean);
            yield return new("overlay", "chosen", "percentile", o.Percentile);
            yield return new("overlay", "chosen", "p_value", o.PValue);
            yield return new("overlay", "chosen", "clean_similarity_after", o.CleanSimilarityAfter);
            yield return new("overlay", "random_subsets", "clean_similarity_after_mean", o.RandomCleanSimilarityAfter);
            yield return new("overlay", "chosen", "removal_rate", o.RemovalRate);
            yield return new("overlay", "chosen", "removal_rate_ci_low", o.RemovalInterval.Low);
            yield return new("overlay", "chosen", "removal_rate_ci_high", o.RemovalInterval.High);
            yield return new("overlay", "random_subsets", "removal_rate_mean", o.RandomRemovalRate);
            yield return new("overlay", "chosen", "clean_shift_along_direction", o.CleanShiftAlongDirection);
            foreach (var h in o.TopHeads) yield return new("overlay", h.Label, "overlay_score", h.Score);
            foreach (var b in o.Baselines)
            {
                yield return new("overlay", b.Selector, "presence_after", b.PresenceAfter);
                yield return new("overlay", b.Selector, "percentile", b.Percentile);
                yield return new("overlay", b.Selector, "p_value", b.PValue);
                yield return new("overlay", b.Selector, "removal_rate", b.RemovedImages / (double)Math.Max(1, o.EvaluationImages));
                yield return new("overlay", b.Selector, "clean_shift_along_direction", b.CleanShiftAlongDirection);
            }
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
