using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Analysis;

namespace DiffusionSteeringLens.Experiments;

/// <summary>Plain-words verdicts next to each study: what was measured, on how much data, which direction counts as success.</summary>
internal static class Verdicts
{
    /// <summary>Heads below which a head-level Spearman test has little power (a true ρ = 0.3 is found &lt; 80 % of the time below ≈ 85).</summary>
    public const int FewHeads = 30;

    /// <summary>Evaluation images below which the averaged scores say little about the domain.</summary>
    public const int FewImages = 10;

    public static string Correlation(string lens, HeadCorrelationResult r)
    {
        string stats = $"ρ = {F(r.Rho)}, 95 % CI [{F(r.CiLow)}, {F(r.CiHigh)}], one-sided p = {P(r.PValueOneSided)} ({r.Heads} heads, {r.Images} images)";
        if (r.CiLow > 0 && r.PValueOneSided < 0.05) return $"{lens} tracked ablation importance: {stats}.";
        if (r.CiHigh < 0) return $"{lens} ranked heads opposite to ablation importance (success needs ρ > 0): {stats}.";
        return $"{lens} did not detectably track ablation importance (success needs ρ > 0 with a CI above 0): {stats}.";
    }

    public static string Difference(string a, string b, RhoDifference d)
    {
        string stats = $"Δρ = {F(d.Delta)}, 95 % CI [{F(d.CiLow)}, {F(d.CiHigh)}], one-sided p = {P(d.PValueOneSided)}";
        return d.CiLow > 0
            ? $"{a} tracked importance better than {b}: {stats}."
            : $"{a} was not shown to track importance better than {b} (success needs Δρ > 0 with a CI above 0): {stats}.";
    }

    public static string Trajectory(TrajectoryStudy t) =>
        $"Ablating heads in DSL order damaged the output faster than {t.DslPercentile:P1} of {t.RandomAucs.Count} random orders "
        + $"(AUC {F(t.Dsl.Auc)} vs random mean {F(t.RandomAucs.Average())}, greedy {F(t.Greedy.Auc)}; one-sided p = {P(t.PValue)}; "
        + $"{t.EvaluationImages} evaluation images, greedy fitted on {t.CalibrationImages} calibration images). "
        + (t.PValue < 0.05 ? "DSL's order beats random." : "DSL's order is not shown to beat random.");

    public static string Overlay(OverlayStudyResult o)
    {
        int k = o.TopHeads.Count;
        string heads = k == 1 ? "the head" : $"the {k} heads";
        string text = $"Ablating {heads} DSL chose on {o.CalibrationImages} calibration images ({string.Join(", ", o.TopHeads.Select(h => h.Label))}) "
            + $"left {F(o.PresenceAfter)} of the overlay (presence along the overlay direction; clean = {F(o.PresenceBefore)}) on {o.EvaluationImages} evaluation images; "
            + $"removed on {o.RemovedImages} of {o.EvaluationImages} images ({o.RemovalRate:P0}, 95 % CI {o.RemovalInterval.Low:P0}–{o.RemovalInterval.High:P0}; random subsets {o.RandomRemovalRate:P0}; on images without the overlay the ablation moves the output {F(o.CleanShiftAlongDirection)} along it); "
            + $"{o.Percentile:P1} of {o.SubsetsCompared} {(o.Exhaustive ? "(all)" : "random")} {k}-head subsets leave more (p = {P(o.PValue)}). "
            + (o.PValue < 0.05 ? "DSL's heads remove more overlay than chance." : "DSL's heads are not shown to remove more overlay than chance.");
        // With few subsets even the best choice cannot reach p < 0.05: say so rather than call it a failure.
        if (o.Exhaustive && 1.0 / o.SubsetsCompared > 0.05)
            text += $" With only {o.SubsetsCompared} possible subsets the smallest attainable p is {P(1.0 / o.SubsetsCompared)}, so this design cannot reach p < 0.05"
                + (o.Percentile >= 1 - 1.0 / o.SubsetsCompared - 1e-12 ? "; DSL's choice removes the most overlay of them all." : ".");
        if (o.PresenceAfter > 0.5) text += " Most of the overlay remains.";
        foreach (var b in o.Baselines)
            text += $" Beside it, {b.Selector} chose {string.Join(", ", b.Heads.Select(h => h.Head.Label))}: left {F(b.PresenceAfter)}, "
                + $"removed on {b.RemovedImages} of {o.EvaluationImages}, p = {P(b.PValue)}.";
        if (o.SilentHeads.Count > 0)
            text += $" Silent (write almost nothing; ranked last by every rule): {string.Join(", ", o.SilentHeads.Select(h => h.Label))}.";
        // Ground truth (planted testbed): what ablating the planted heads does, and where each rule ranked them.
        foreach (var p in o.Planted)
            text += $" Ground truth, {p.Selector} ablated: left {F(p.PresenceAfter)}, removed on {p.RemovedImages} of {o.EvaluationImages}.";
        foreach (var (rule, ranks) in o.PlantedRanks)
            text += $" {(rule == "lens" ? "DSL" : rule)} ranked the planted heads {string.Join(", ", ranks)}.";
        return text;
    }

    /// <summary>One line naming the heads whose direct effect the read-out cannot see, or null when there are none.</summary>
    public static string? Invisible(IReadOnlyList<HeadTarget> heads) => heads.Count == 0 ? null
        : heads.Count == 1
            ? $"No visible direct effect: {heads[0]} (the read-out cannot see its write); DSL ranks it last and it stays in every ρ, "
              + "so a lens blind to an important head is penalised, not excused."
            : $"No visible direct effect: {string.Join(", ", heads)} (the read-out cannot see their writes); DSL ranks them last and they stay "
              + "in every ρ, so a lens blind to an important head is penalised, not excused.";

    public static IReadOnlyList<string> Warnings(int heads, int images)
    {
        var list = new List<string>();
        if (heads < FewHeads)
            list.Add($"Only {heads} heads: a true head-level ρ of 0.3 is detected about {Power(heads, 0.3):P0} of the time (α = 0.05, one-sided); "
                + "a non-significant result here does not show the lens lacks skill.");
        if (images < FewImages)
            list.Add($"Only {images} evaluation image(s): too few to conclude anything about the domain.");
        return list;
    }

    /// <summary>Fisher-z approximation of the one-sided power of a Spearman test (the tests check it by simulation).</summary>
    public static double Power(int heads, double rho) =>
        heads <= 3 ? 0.05 : NormalCdf(Math.Atanh(rho) * Math.Sqrt((heads - 3) / 1.06) - 1.6448536);

    private static double NormalCdf(double z)
    {
        // Abramowitz–Stegun 7.1.26 erf.
        double x = Math.Abs(z) / Math.Sqrt(2), t = 1 / (1 + 0.3275911 * x);
        double erf = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
    }

    private static string F(double v) => v.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
    private static string P(double v) => v < 0.001 ? v.ToString("0.0e0", System.Globalization.CultureInfo.InvariantCulture) : v.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
}
