using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Experiments;

/// <summary>Which space lens scores and importance are measured in.</summary>
public enum ScoreSpace
{
    /// <summary>The encoder's output embedding (cosine): no decoding, the same space as ablation importance.</summary>
    Embedding,
    /// <summary>Decoded pictures compared with the input picture.</summary>
    Image,
}

/// <summary>One lens (or baseline) correlated with ablation importance, with its verdict.</summary>
/// <param name="Lens">Lens name: <c>DSL</c>, <c>DL-on-heads</c>, <c>output-norm</c> (baseline), <c>random</c> (baseline).</param>
/// <param name="Correlation">Head-level ρ, p and CI.</param>
/// <param name="Verdict">Plain-words verdict.</param>
public sealed record LensCorrelation(string Lens, HeadCorrelationResult Correlation, string Verdict);

/// <summary>Scores of one evaluation image (layer-major per head), so per-image results survive in results.json.</summary>
/// <param name="Image">Index within the evaluation set.</param>
/// <param name="Dsl">DSL scores.</param>
/// <param name="Dl">DL-on-heads scores.</param>
/// <param name="OutputNorm">Output-norm baseline.</param>
/// <param name="Importance">Ablation importance; null when not computed (ranking only).</param>
public sealed record ImageHeadScores(int Image, IReadOnlyList<double> Dsl, IReadOnlyList<double> Dl, IReadOnlyList<double> OutputNorm, IReadOnlyList<double>? Importance)
{
    /// <summary>DSL contrast scores (<see cref="Analysis.HeadScoring.ContrastScores"/>); null where not computed (picture-space studies).</summary>
    public IReadOnlyList<double>? DslContrast { get; init; }

    /// <summary>Direct-effect visibility δ of every head (<see cref="HeadScoreRow.DirectEffect"/>); null where not kept (validation studies keep it in their measurements).</summary>
    public IReadOnlyList<double>? DirectEffect { get; init; }
}

/// <summary>Heads ranked by their scores averaged over the evaluation images of an image set (embedding space).</summary>
/// <param name="Images">Description of the image sets.</param>
/// <param name="Heads">Image-averaged scores and ranks (layer-major).</param>
/// <param name="PerImage">Per-image scores.</param>
public sealed record ImageSetRanking(string Images, IReadOnlyList<HeadScoreRow> Heads, IReadOnlyList<ImageHeadScores> PerImage);

/// <summary>How well lens scores predict causal head importance on the evaluation images (see docs/validation.md).</summary>
/// <param name="ScoreSpace">Space of the correlated scores.</param>
/// <param name="Ablation">Zero or mean ablation.</param>
/// <param name="Images">Description of the image sets.</param>
/// <param name="SuccessDirection">Which direction counts as success, in words.</param>
/// <param name="Lenses">DSL, DL-on-heads, the two baselines, and the DSL contrast score (<c>DSL-contrast</c>) when measured.</param>
/// <param name="DslVsDl">Paired ρ_DSL − ρ_DL with its CI (one-sided in the paper's direction).</param>
/// <param name="DslVsDlVerdict">Verdict of the paired comparison.</param>
/// <param name="Trajectories">Cumulative ablation: DSL order vs random orders and the calibration-fitted greedy order.</param>
/// <param name="TrajectoryVerdict">Verdict of the trajectory study.</param>
/// <param name="SilentHeads">Heads left out because they write (almost) nothing.</param>
/// <param name="Warnings">Warnings about power and sample size.</param>
/// <param name="Heads">Image-averaged scores and importance of every head (evaluation images).</param>
/// <param name="PerImage">Per-image scores and importance.</param>
public sealed record ValidationResult(ScoreSpace ScoreSpace, AblationKind Ablation, string Images, string SuccessDirection,
    IReadOnlyList<LensCorrelation> Lenses, RhoDifference DslVsDl, string DslVsDlVerdict, TrajectoryStudy Trajectories, string TrajectoryVerdict,
    IReadOnlyList<HeadTarget> SilentHeads, IReadOnlyList<string> Warnings, IReadOnlyList<HeadScoreRow> Heads, IReadOnlyList<ImageHeadScores> PerImage)
{
    /// <summary>
    /// Heads whose direct effect the read-out cannot see DSL ranks them last, and they stay in every correlation
    /// (leaving them out would hide the lens's blind spot when such a head matters).
    /// </summary>
    public IReadOnlyList<HeadTarget> InvisibleHeads { get; init; } = Array.Empty<HeadTarget>();

    /// <summary>
    /// Paired ρ_contrast − ρ_DL: the DSL contrast score (the <c>DSL-contrast</c> row of <see cref="Lenses"/>, which a
    /// head cannot win by writing nothing visible) against DL-on-heads; null for measurements without contrast scores.
    /// </summary>
    public RhoDifference? ContrastVsDl { get; init; }

    /// <summary>Verdict of <see cref="ContrastVsDl"/>.</summary>
    public string? ContrastVsDlVerdict { get; init; }
}

/// <summary>Settings of the validation protocol.</summary>
public sealed record ValidationSettings
{
    /// <summary>Zero or mean ablation (mean needs the image sets' reference set).</summary>
    public AblationKind Ablation { get; init; } = AblationKind.Zero;

    /// <summary>Heads ablated along each trajectory; null = half of all heads, at most 16.</summary>
    public int? TrajectorySteps { get; init; }

    /// <summary>Random orders the DSL order is compared with.</summary>
    public int RandomOrders { get; init; } = AblationTrajectories.DefaultRandomOrders;

    /// <summary>Evaluation images the trajectories are scored on (the first ones; the random orders cost steps × orders forwards each).</summary>
    public int TrajectoryImages { get; init; } = 8;

    /// <summary>Head-label permutations of the p-values.</summary>
    public int Permutations { get; init; } = HeadCorrelation.DefaultPermutations;

    /// <summary>Two-way bootstrap resamples of the CIs.</summary>
    public int Bootstrap { get; init; } = HeadCorrelation.DefaultBootstrap;

    /// <summary>Seed of permutations, bootstrap, random orders and subsets.</summary>
    public int Seed { get; init; }
}
