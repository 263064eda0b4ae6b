using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Experiments;

public static partial class LensStudy
{
    /// <summary>
    /// Image-space validation (see <see cref="ImageSpaceValidationResult"/>) on the first <paramref name="imageCount"/>
    /// evaluation images: 2 × heads × images × seeds decoded pictures, each stored by its sweep (a re-run with resume
    /// reuses them). Silent heads are left out and heads without a visible direct effect are ranked last by DSL, as in
    /// <see cref="Validate"/>.
    /// </summary>
    /// <param name="encoder">Encoder.</param>
    /// <param name="images">Evaluation (and, for mean ablation, reference) images.</param>
    /// <param name="steering">DSL steering.</param>
    /// <param name="decoders">One picture sweep per decoder seed (at least two, so seed agreement can be measured).</param>
    /// <param name="imageCount">Evaluation images decoded.</param>
    /// <param name="settings">Ablation kind, permutations, bootstrap, seed.</param>
    /// <param name="progress">Progress sink (also receives the decoder's steps).</param>
    /// <param name="cancellationToken">Cancels between decode batches and forwards.</param>
    /// <exception cref="ArgumentException">Fewer than two decoder seeds or an image count below 1.</exception>
    public static ImageSpaceValidationResult ValidateImageSpace(IHookedVit encoder, StudyImages images, SteeringOptions steering,
        IReadOnlyDictionary<long, PictureSweep> decoders, int imageCount, ValidationSettings? settings = null,
        IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(decoders);
        if (decoders.Count < 2)
            throw new ArgumentException($"image-space validation needs at least two decoder seeds (got {decoders.Count}): one seed's picture is one sample of the decoder's noise.", nameof(decoders));
        ArgumentOutOfRangeException.ThrowIfLessThan(imageCount, 1);
        settings ??= new ValidationSettings();
        var arch = encoder.Architecture;
        int n = arch.NumLayers * arch.NumHeads;
        var eval = images.Evaluation;
        int k = (int)Math.Min(imageCount, eval.Pixels.shape[0]);
        using var pixels = eval.Pixels.narrow(0, 0, k);
        var heads = LensTarget.AllHeads(arch);
        var dslLens = new SteeringLens(encoder, steering);
        var dlLens = new DiffusionLens(encoder);
        var seeds = decoders.Keys.OrderBy(s => s).ToArray();

        // byLens[lens][seed][image] = similarity of each head's picture to the input picture.
        var dslBySeed = seeds.Select(_ => new double[k][]).ToArray();
        var dlBySeed = seeds.Select(_ => new double[k][]).ToArray();
        for (int i = 0; i < k; i++)
        {
            using var input = new PreparedInput(eval.Pixels.narrow(0, i, 1), eval.Pictures.narrow(0, i, 1)) { Processor = eval.Processor };
            for (int s = 0; s < seeds.Length; s++)
            {
                var context = new StudyContext(encoder, input, decoders[seeds[s]], null, progress);
                // One encoder pass for both lenses (bit-identical to two separate read-outs; SteeringAndDirectReadoutsTests).
                var (dsl, dl) = SteeringAndDirectReadouts(context, steering, heads, $"image{i}-dsl-heads", $"image{i}-dl-heads", cancellationToken);
                using (dsl)
                using (dl)
                {
                    dslBySeed[s][i] = dsl.Readouts.Select(r => r.ImageSimilarity!.Value).ToArray();
                    dlBySeed[s][i] = dl.Readouts.Select(r => r.ImageSimilarity!.Value).ToArray();
                }
            }
        }
        double[][] SeedMean(double[][][] bySeed) =>
            Enumerable.Range(0, k).Select(i => Enumerable.Range(0, n).Select(h => bySeed.Average(s => s[i][h])).ToArray()).ToArray();
        var dslImage = SeedMean(dslBySeed);
        var dlImage = SeedMean(dlBySeed);

        progress?.Report(new LensProgress("image-space importance", 0, 1));
        var reference = settings.Ablation == AblationKind.Mean ? AblationImportance.RequireReference(images.Reference?.Pixels) : null;
        var importance = AblationImportance.Compute(encoder, pixels, settings.Ablation, reference, cancellationToken);
        var norms = HeadOutputNorm.Compute(encoder, pixels, cancellationToken);
        var (dslEmbedding, delta, _) = HeadScoring.SteeringScores(dslLens, pixels, withContrast: false, cancellationToken);
        var dlEmbedding = HeadScoring.EmbeddingScores(dlLens, pixels, cancellationToken: cancellationToken);
        progress?.Report(new LensProgress("image-space importance", 1, 1));

        var silent = HeadOutputNorm.SilentHeads(norms);
        var invisible = DirectEffectVisibility.InvisibleHeads(delta).Except(silent).ToArray();
        var kept = Enumerable.Range(0, n).Except(silent).ToArray();
        double[][] Keep(double[][] m) => m.Select(r => kept.Select(h => r[h]).ToArray()).ToArray();
        double[][] DslRule(double[][] m) => m.Select(r => ValidationStudy.RankedLast(r, invisible)).ToArray();
        var imp = Keep(importance);
        var lenses = new List<LensCorrelation>();
        void Add(string name, double[][] scores)
        {
            var c = HeadCorrelation.Compute(Keep(scores), imp, settings.Permutations, settings.Bootstrap, settings.Seed);
            lenses.Add(new LensCorrelation(name, c, Verdicts.Correlation(name, c)));
        }
        Add("DSL (image)", DslRule(dslImage));
        Add("DL-on-heads (image)", dlImage);
        Add("DSL (embedding)", DslRule(dslEmbedding));
        Add("DL-on-heads (embedding)", dlEmbedding);
        Add("output-norm", norms);
        var difference = HeadCorrelation.Difference(Keep(DslRule(dslImage)), Keep(dlImage), imp, settings.Bootstrap, settings.Seed);
        var perImage = Enumerable.Range(0, k).Select(i => new ImageHeadScores(i, dslImage[i], dlImage[i], norms[i], importance[i])).ToArray();
        return new ImageSpaceValidationResult(k, seeds, settings.Ablation, lenses, difference,
            Verdicts.Difference("DSL (image)", "DL-on-heads (image)", difference), SeedAgreement(dslBySeed), SeedAgreement(dlBySeed),
            silent.Select(h => heads[h]).ToArray(), Verdicts.Warnings(kept.Length, k), perImage);
    }

    /// <summary>Mean Spearman ρ between the score vectors of every pair of seeds, over images.</summary>
    internal static double SeedAgreement(double[][][] bySeed)
    {
        var rhos = new List<double>();
        for (int a = 0; a < bySeed.Length; a++)
            for (int b = a + 1; b < bySeed.Length; b++)
                for (int i = 0; i < bySeed[a].Length; i++)
                    rhos.Add(SpearmanCorrelation.Rho(bySeed[a][i], bySeed[b][i]));
        return rhos.Count == 0 ? double.NaN : rhos.Average();
    }
}
