using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Tests.Vit;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Runtime;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Analysis;

/// <summary>
/// The DSL contrast score c_h = cos(R(r + Δ_h), e) − cos(R(r − Δ_h), e) (docs/toy-model.md §10): its definition, and
/// planted ground truth it must recover. The silent and invisible heads are checked in <see cref="HeadRankingTests"/> and
/// <see cref="IndirectHeadTests"/>, beside the similarity score's rules for them.
/// </summary>
public sealed class ContrastScoreTests
{
    private readonly ITestOutputHelper _out;

    public ContrastScoreTests(ITestOutputHelper output) => _out = output;

    [Theory]
    [InlineData("float32", 1e-6)]
    [InlineData("float64", 1e-12)]
    public void ContrastIsTheSimilarityScoreMinusThatOfTheMirroredPush(string dtype, double bound)
    {
        // scale:3 pushes a write by +2·o; the mirrored push −2·o is scale:−1, an independent lens for the second term.
        // Bound: the two lenses form the same push with different roundings (fl(2o − fl(3o)) against fl(−o)), so in
        // float32 they differ by a few ulp of the write (ε = 1.2e-7 relative) and the cosines by about as much; in
        // float64 the same comparison must agree to ~1e-15, which tells rounding from a wrong formula.
        var type = dtype == "float64" ? torch.ScalarType.Float64 : torch.ScalarType.Float32;
        using var vit = ClipVisionModelWithProjection.FromPretrained(GoldenClip.Folder, new ModelLoadOptions { DType = type });
        using var random = GoldenClip.RandomPixels(3, seed: 21);
        using var pixels = random.to(type);
        SteeringLens Lens(double alpha) => new(vit, new SteeringOptions { Steering = new ScaleSteering(alpha) });
        var contrast = HeadScoring.ContrastScores(Lens(3), pixels);
        var up = HeadScoring.EmbeddingScores(Lens(3), pixels);
        var down = HeadScoring.EmbeddingScores(Lens(-1), pixels);
        double worst = 0;
        for (int b = 0; b < contrast.Length; b++)
            for (int h = 0; h < contrast[b].Length; h++)
                worst = Math.Max(worst, Math.Abs(contrast[b][h] - (up[b][h] - down[b][h])));
        _out.WriteLine($"{dtype}: max |c − (cos(scale:3) − cos(scale:−1))| = {worst:E2}; c of image 0: {string.Join(", ", contrast[0].Select(v => v.ToString("F4")))}");
        Assert.True(worst < bound, $"max difference {worst:E2}");
        Assert.Contains(contrast[0], v => Math.Abs(v) > 1e-3); // and not trivially zero
    }

    [Fact]
    public void PlantedHeadIsRankedFirstByContrast()
    {
        // PlantedHeadModel: head L0H2 writes one fixed direction that dominates the output; the other heads write ~0.
        const int layer = 0, head = 2;
        using var vit = PlantedHeadModel.Build(layer, head, directionScale: 20, seed: 11);
        using var pixels = GoldenClip.RandomPixels(4, seed: 5);
        var arch = vit.Architecture;
        var contrast = HeadScoring.ContrastScores(new SteeringLens(vit, new SteeringOptions { Steering = new RelativeSteering(2) }), pixels);
        for (int b = 0; b < contrast.Length; b++)
        {
            var ranked = HeadScore.RankAll(contrast[b], arch.NumHeads);
            _out.WriteLine($"image {b}: contrast top {ranked[0].Label} ({ranked[0].Score:F4}), next {ranked[1].Label} ({ranked[1].Score:F4})");
            Assert.Equal(new HeadTarget(layer, head), ranked[0].Head);
            Assert.True(ranked[0].Score > 0.5, $"the planted head's contrast {ranked[0].Score:F4}");
        }
    }
}
