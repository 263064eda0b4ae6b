using System.Globalization;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>
/// How big the demo's studies are on a model: the protocol is the full study's (calibration vs evaluation images,
/// permutations over heads, bootstrap CIs, output-norm and random baselines, random ablation orders and head subsets),
/// the counts are sized so the whole demo fits its time budget. Options the user gives win over these.
/// </summary>
internal sealed record DemoBudget
{
    public required string Domain { get; init; }
    public string? OverlayKind { get; init; }
    public int EvaluationImages { get; init; }
    public int CalibrationImages { get; init; }
    public int Permutations { get; init; }
    public int Bootstrap { get; init; }
    public int RandomOrders { get; init; }
    public int TrajectorySteps { get; init; }
    public int TrajectoryImages { get; init; }
    public int? OverlayTopK { get; init; }
    public int OverlayImages { get; init; }
    public int OverlaySubsets { get; init; }

    /// <summary>Where the full study's numbers are, when this budget is a reduced run of it; null otherwise.</summary>
    public string? FullStudy { get; init; }

    /// <summary>
    /// The 96-head testbed: its full study (docs/toy-model.md §8) takes hours; the demo keeps the protocol at sizes that
    /// fit 2 minutes on 2 cores, and the overlay study on one mark (dots) with k = 4 as in the full study.
    /// </summary>
    public static DemoBudget Testbed { get; } = new()
    {
        Domain = "marked", OverlayKind = "dots",
        EvaluationImages = 12, CalibrationImages = 4, Permutations = 2000, Bootstrap = 500,
        RandomOrders = 100, TrajectorySteps = 4, TrajectoryImages = 4,
        OverlayTopK = 4, OverlayImages = 8, OverlaySubsets = 100,
        FullStudy = "docs/toy-model.md §8 and samples/models/marked96/ (seed*/evaluation, pooled/pooled.json)",
    };

    /// <summary>The 16-head shapes32 model: the demo as it always ran (full protocol sizes fit its budget).</summary>
    public static DemoBudget Shapes32 { get; } = new()
    {
        Domain = "shapes",
        EvaluationImages = Experiments.StudyImages.DefaultEvaluationCount, CalibrationImages = Experiments.StudyImages.DefaultCalibrationCount,
        Permutations = Analysis.HeadCorrelation.DefaultPermutations, Bootstrap = Analysis.HeadCorrelation.DefaultBootstrap,
        RandomOrders = Analysis.AblationTrajectories.DefaultRandomOrders, TrajectorySteps = 4, TrajectoryImages = 4,
        OverlayTopK = null, OverlayImages = 8, OverlaySubsets = 500,
    };

    /// <summary>One line with every count the run uses (after the user's options), for the log and the report.</summary>
    public static string Describe(Experiments.ValidationSettings v, int evaluationImages, int calibrationImages, string overlay, int heads,
        int overlayTopK, int overlayImages, int overlaySubsets)
    {
        string N(double x) => x.ToString("N0", CultureInfo.InvariantCulture);
        // The overlay study enumerates every k-head subset when there are no more than the limit, else draws that many.
        double all = 1;
        for (int i = 0; i < overlayTopK; i++) all = all * (heads - i) / (i + 1);
        var subsets = all <= overlaySubsets ? $"all {N(all)}" : $"{N(overlaySubsets)} random";
        return $"{N(evaluationImages)} evaluation and {N(calibrationImages)} calibration images, {N(v.Permutations)} permutations, "
            + $"{N(v.Bootstrap)} bootstrap resamples, {N(v.RandomOrders)} random ablation orders ({v.TrajectorySteps} steps on {v.TrajectoryImages} images), "
            + $"overlay study: {overlay}, k = {overlayTopK}, {N(overlayImages)} evaluation images vs {subsets} {overlayTopK}-head subsets";
    }
}
