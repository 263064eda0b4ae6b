using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Experiments;

/// <summary>Every score of one attention head.</summary>
/// <param name="Head">The head.</param>
/// <param name="DslScore">DSL embedding-space score: cosine of the steered read-out with the clean embedding.</param>
/// <param name="DslRank">1-based rank by <paramref name="DslScore"/> (1 = highest).</param>
/// <param name="DlScore">DL-on-heads embedding-space score: cosine of the head result's read-out with the clean embedding.</param>
/// <param name="DlRank">1-based rank by <paramref name="DlScore"/>.</param>
/// <param name="DslImageScore">Image-space DSL score (decoded picture vs input); null without decoding.</param>
/// <param name="DlImageScore">Image-space DL-on-heads score; null without decoding.</param>
/// <param name="Importance">Ablation importance (1 − cosine of the ablated output with the clean one); null when not computed.</param>
/// <param name="OutputNorm">Output-norm baseline (norm of the head's CLS write); null when not computed.</param>
/// <param name="Silent">The head writes (almost) nothing and was left out of the correlations.</param>
/// <param name="DirectEffect">
/// Direct-effect visibility δ (mean over images): how far the DSL-steered read-out is from the read-out with the head's
/// write removed, both normalised; null when not computed.
/// </param>
/// <param name="NoVisibleDirectEffect">
/// The read-out cannot see the head's direct effect (δ below 10⁻³ × the median head's): DSL ranks it last, but unlike a
/// silent head it stays in the correlations, so a lens blind to an important head is penalised rather than excused.
/// </param>
public sealed record HeadScoreRow(HeadTarget Head, double DslScore, int DslRank, double DlScore, int DlRank,
    double? DslImageScore = null, double? DlImageScore = null, double? Importance = null, double? OutputNorm = null, bool Silent = false,
    double? DirectEffect = null, bool NoVisibleDirectEffect = false)
{
    /// <summary>
    /// DSL contrast score (mean over images): cos(R(r + Δ), e) − cos(R(r − Δ), e) with Δ the steering push
    /// (<see cref="Analysis.HeadScoring.ContrastScores"/>); 0 for a head that writes nothing. Null when not computed.
    /// </summary>
    public double? DslContrast { get; init; }

    /// <summary>1-based rank by <see cref="DslContrast"/> (silent heads last); null when not computed.</summary>
    public int? DslContrastRank { get; init; }

    /// <summary>The DSL score ranking uses: image-space when decoded, else embedding-space.</summary>
    public double DslPrimary => DslImageScore ?? DslScore;

    /// <summary>The DL-on-heads score ranking uses: image-space when decoded, else embedding-space.</summary>
    public double DlPrimary => DlImageScore ?? DlScore;
}
