using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Examples;

/// <summary>
/// A custom lens experiment in embedding space (no decoding): which heads' direct contributions point at the image's
/// own embedding, and does that ranking predict what ablating each head does to the output?
/// </summary>
public static class CustomLensExperiment
{
    /// <summary>Runs the experiment and returns a one-line summary per steering function.</summary>
    public static IEnumerable<string> Run(IHookedVit encoder, torch.Tensor pixels, IEnumerable<SteeringFunction> steerings)
    {
        var arch = encoder.Architecture;
        var importance = AblationImportance.Compute(encoder, pixels, AblationKind.Zero);           // [B][L·H]
        foreach (var sigma in steerings)
        {
            var dsl = new SteeringLens(encoder, new SteeringOptions { Steering = sigma });
            var scores = HeadScoring.EmbeddingScores(dsl, pixels);                                  // [B][L·H]
            // High DSL similarity should mean important, so correlate the score with importance.
            var rho = SpearmanCorrelation.MeanRho(scores, importance, permutations: 500, seed: 1);
            var top = HeadScore.RankAll(scores[0], arch.NumHeads).Take(3).Select(h => h.Label);
            yield return $"{sigma,-28} ρ(DSL, importance) = {rho.Rho,6:F3} (p = {rho.PValue:F3}); top heads of image 0: {string.Join(", ", top)}";
        }
    }
}
