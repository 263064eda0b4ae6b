using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using TorchSharp;

namespace DiffusionSteeringLens.Synthetic;

/// <summary>
/// The validation protocol's image sets drawn from the procedural domains by count and seed: evaluation from the seed,
/// calibration from seed + 1,000 and reference from seed + 2,000 (separate draws, so the sets are disjoint).
/// </summary>
public static class SyntheticStudyImages
{
    /// <summary>
    /// Images from the <see cref="ShapeDomain"/> (no overlay; the shipped shapes32 model's domain). The overlay study
    /// uses the domain's own stripe overlay.
    /// </summary>
    public static StudyImages Shapes(ClipImageProcessor processor, int evaluationCount = StudyImages.DefaultEvaluationCount, int seed = 0,
        int calibrationCount = StudyImages.DefaultCalibrationCount, int referenceCount = StudyImages.DefaultReferenceCount)
    {
        ArgumentNullException.ThrowIfNull(processor);
        return Drawn(processor, (count, s) => ShapeDomain.Render(ShapeDomain.Sample(count, s, overlayProbability: 0)), evaluationCount, seed,
            calibrationCount, referenceCount, $"synthetic shapes domain, seed {seed}", ShapesOverlay, "stripes");
    }

    /// <summary>
    /// Images from the <see cref="MarkedShapeDomain"/> (the 96-head testbed's domain), drawn like <see cref="Shapes"/>.
    /// The other marks and the tick count appear as the domain draws them; the study's own mark
    /// <paramref name="overlay"/> is removed from every image, so the overlay study composes it into images that lack it.
    /// </summary>
    public static StudyImages Marked(ClipImageProcessor processor, MarkKind overlay, int evaluationCount = StudyImages.DefaultEvaluationCount,
        int seed = 0, int calibrationCount = StudyImages.DefaultCalibrationCount, int referenceCount = StudyImages.DefaultReferenceCount)
    {
        ArgumentNullException.ThrowIfNull(processor);
        if (!Enum.IsDefined(overlay)) throw new ArgumentOutOfRangeException(nameof(overlay), overlay, "unknown mark kind.");
        string name = overlay.ToString().ToLowerInvariant();
        return Drawn(processor, (count, s) => MarkedShapeDomain.Render(MarkedShapeDomain.Sample(count, s).Select(a => Without(a, overlay)).ToList()),
            evaluationCount, seed, calibrationCount, referenceCount, $"marked shapes domain without the {name} mark (overlay: {name}), seed {seed}",
            pictures => MarkedShapeDomain.ComposeMark(pictures.cpu(), overlay), name);
    }

    private static StudyImages Drawn(ClipImageProcessor processor, Func<int, int, torch.Tensor> render, int evaluationCount, int seed,
        int calibrationCount, int referenceCount, string domain, Func<torch.Tensor, torch.Tensor> composeOverlay, string overlayName)
    {
        if (evaluationCount < 1 || calibrationCount < 1 || referenceCount < 0)
            throw new ArgumentOutOfRangeException(nameof(evaluationCount), $"need ≥ 1 evaluation and calibration images and ≥ 0 reference images (got {evaluationCount}, {calibrationCount}, {referenceCount}).");
        using var calibration = render(calibrationCount, seed + 1000);
        using var evaluation = render(evaluationCount, seed);
        using var reference = referenceCount == 0 ? null : render(referenceCount, seed + 2000);
        return StudyImages.FromPictures(processor, calibration, evaluation, reference,
            $"{domain}: {calibrationCount} calibration, {evaluationCount} evaluation, {referenceCount} reference images", composeOverlay, overlayName);
    }

    private static MarkedShapeAttributes Without(MarkedShapeAttributes a, MarkKind kind) => kind switch
    {
        MarkKind.Stripes => a with { Base = a.Base with { Overlay = false } },
        MarkKind.Dots => a with { Dots = false },
        MarkKind.Cross => a with { Cross = false },
        MarkKind.Bar => a with { Bar = false },
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    // The domain's own stripes at its size; other sizes (a custom processor) get the default stripe overlay.
    private static torch.Tensor ShapesOverlay(torch.Tensor pictures) =>
        pictures.shape[2] == ShapeDomain.ImageSize && pictures.shape[3] == ShapeDomain.ImageSize
            ? ShapeDomain.ComposeOverlay(pictures.cpu())
            : StudyImages.ComposeDefaultOverlay(pictures);
}
