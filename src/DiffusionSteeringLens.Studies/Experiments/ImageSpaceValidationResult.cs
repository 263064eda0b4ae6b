using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// The validation protocol in picture space, the space of the paper's claim: every head's DSL and DL-on-heads read-out
/// is decoded with several decoder seeds, each picture is compared with the input picture (through the encoder), the
/// similarity is averaged over the seeds, and the per-image scores are correlated with ablation importance on the same
/// images (head-level permutation p, two-way bootstrap CI, paired Δρ), next to the embedding-space scores of the same
/// images and the output-norm baseline.
/// </summary>
/// <param name="Images">Evaluation images used (the first ones of the set).</param>
/// <param name="DecoderSeeds">Decoder seeds every picture was decoded with.</param>
/// <param name="Ablation">Zero or mean ablation.</param>
/// <param name="Lenses">Image-space DSL and DL-on-heads, their embedding-space scores on the same images, output norm.</param>
/// <param name="DslVsDl">Paired ρ_DSL − ρ_DL of the image-space scores.</param>
/// <param name="DslVsDlVerdict">Verdict of the paired comparison.</param>
/// <param name="DslSeedAgreement">Mean Spearman ρ between two decoder seeds' DSL image scores of the same image (1 = the
/// seed does not matter); how reliable one seed's ranking would be.</param>
/// <param name="DlSeedAgreement">The same for DL-on-heads.</param>
/// <param name="SilentHeads">Heads left out because they write (almost) nothing.</param>
/// <param name="Warnings">Power and sample-size warnings.</param>
/// <param name="PerImage">Per image: seed-averaged image-space DSL and DL scores, output norm and importance.</param>
public sealed record ImageSpaceValidationResult(int Images, IReadOnlyList<long> DecoderSeeds, AblationKind Ablation,
    IReadOnlyList<LensCorrelation> Lenses, RhoDifference DslVsDl, string DslVsDlVerdict, double DslSeedAgreement, double DlSeedAgreement,
    IReadOnlyList<HeadTarget> SilentHeads, IReadOnlyList<string> Warnings, IReadOnlyList<ImageHeadScores> PerImage);
