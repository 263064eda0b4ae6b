using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Synthetic;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// The image sets of the validation protocol, fixed before any study runs: calibration images (choose settings and
/// overlay heads, fit the greedy order), disjoint evaluation images (everything reported is measured here) and a
/// reference set for mean ablation. Owns its tensors.
/// </summary>
public sealed class StudyImages : IDisposable
{
    private readonly Func<torch.Tensor, torch.Tensor> _composeOverlay;
    private readonly ClipImageProcessor _processor;

    private StudyImages(PreparedInput calibration, PreparedInput evaluation, PreparedInput? reference, string description,
        ClipImageProcessor processor, Func<torch.Tensor, torch.Tensor> composeOverlay)
    {
        Calibration = calibration;
        Evaluation = evaluation;
        Reference = reference;
        Description = description;
        _processor = processor;
        _composeOverlay = composeOverlay;
    }

    /// <summary>Calibration images.</summary>
    public PreparedInput Calibration { get; }

    /// <summary>Evaluation images (disjoint from calibration).</summary>
    public PreparedInput Evaluation { get; }

    /// <summary>Mean-ablation reference images; null when none were given (mean ablation then fails with a clear error).</summary>
    public PreparedInput? Reference { get; }

    /// <summary>Where the images came from and how they were split, for reports.</summary>
    public string Description { get; }

    /// <summary>Default number of synthetic evaluation images.</summary>
    public const int DefaultEvaluationCount = 50;

    /// <summary>Default number of synthetic calibration images.</summary>
    public const int DefaultCalibrationCount = 20;

    /// <summary>Default number of synthetic mean-ablation reference images.</summary>
    public const int DefaultReferenceCount = 200;

    /// <summary>
    /// Images from the synthetic shapes domain (no overlay), drawn by count and seed: evaluation from
    /// <paramref name="seed"/>, calibration from seed + 1,000 and reference from seed + 2,000 (separate draws).
    /// The overlay study uses the domain's own stripe overlay.
    /// </summary>
    public static StudyImages Synthetic(ClipImageProcessor processor, int evaluationCount = DefaultEvaluationCount, int seed = 0,
        int calibrationCount = DefaultCalibrationCount, int referenceCount = DefaultReferenceCount)
    {
        ArgumentNullException.ThrowIfNull(processor);
        return Drawn(processor, (count, s) => ShapeDomain.Render(ShapeDomain.Sample(count, s, overlayProbability: 0)), evaluationCount, seed,
            calibrationCount, referenceCount, $"synthetic shapes domain, seed {seed}", SyntheticOverlay);
    }

    /// <summary>
    /// Images from the <see cref="MarkedShapeDomain"/> (the 96-head testbed's domain), drawn by count and seed like
    /// <see cref="Synthetic"/> (evaluation from <paramref name="seed"/>, calibration from seed + 1,000, reference from
    /// seed + 2,000). The other marks and the tick count appear as the domain draws them; the study's own mark
    /// <paramref name="overlay"/> is removed from every image, so the overlay study composes it into images that lack it.
    /// </summary>
    public static StudyImages SyntheticMarked(ClipImageProcessor processor, MarkKind overlay, int evaluationCount = DefaultEvaluationCount,
        int seed = 0, int calibrationCount = DefaultCalibrationCount, int referenceCount = DefaultReferenceCount)
    {
        ArgumentNullException.ThrowIfNull(processor);
        if (!Enum.IsDefined(overlay)) throw new ArgumentOutOfRangeException(nameof(overlay), overlay, "unknown mark kind.");
        string name = overlay.ToString().ToLowerInvariant();
        return Drawn(processor, (count, s) => MarkedShapeDomain.Render(MarkedShapeDomain.Sample(count, s).Select(a => Without(a, overlay)).ToList()),
            evaluationCount, seed, calibrationCount, referenceCount, $"marked shapes domain without the {name} mark (overlay: {name}), seed {seed}",
            pictures => MarkedShapeDomain.ComposeMark(pictures.cpu(), overlay));
    }

    /// <summary>The three sets drawn from a seeded synthetic domain: evaluation from seed, calibration seed + 1,000, reference seed + 2,000.</summary>
    private static StudyImages Drawn(ClipImageProcessor processor, Func<int, int, torch.Tensor> render, int evaluationCount, int seed,
        int calibrationCount, int referenceCount, string domain, Func<torch.Tensor, torch.Tensor> composeOverlay)
    {
        if (evaluationCount < 1 || calibrationCount < 1 || referenceCount < 0)
            throw new ArgumentOutOfRangeException(nameof(evaluationCount), $"need ≥ 1 evaluation and calibration images and ≥ 0 reference images (got {evaluationCount}, {calibrationCount}, {referenceCount}).");
        PreparedInput Draw(int count, int s)
        {
            using var pictures = render(count, s);
            return Prepare(processor, pictures);
        }
        PreparedInput? cal = null, eval = null;
        try
        {
            cal = Draw(calibrationCount, seed + 1000);
            eval = Draw(evaluationCount, seed);
            var reference = referenceCount == 0 ? null : Draw(referenceCount, seed + 2000);
            return new StudyImages(cal, eval, reference,
                $"{domain}: {calibrationCount} calibration, {evaluationCount} evaluation, {referenceCount} reference images", processor, composeOverlay);
        }
        catch
        {
            cal?.Dispose(); eval?.Dispose();
            throw;
        }
    }

    private static MarkedShapeAttributes Without(MarkedShapeAttributes a, MarkKind kind) => kind switch
    {
        MarkKind.Stripes => a with { Base = a.Base with { Overlay = false } },
        MarkKind.Dots => a with { Dots = false },
        MarkKind.Cross => a with { Cross = false },
        MarkKind.Bar => a with { Bar = false },
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>
    /// Images of a folder (png/jpg/jpeg/bmp, sorted by name, then shuffled with <paramref name="seed"/>): the first third
    /// calibrates, the rest is evaluated. Reference images for mean ablation come from a separate folder.
    /// The overlay study composes the default stripes into the bottom-right quadrant.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">A folder does not exist.</exception>
    /// <exception cref="ArgumentException">Fewer than 3 images in the folder (the message names it).</exception>
    public static StudyImages FromFolder(ClipImageProcessor processor, string folder, int seed = 0, string? referenceFolder = null)
    {
        ArgumentNullException.ThrowIfNull(processor);
        var files = ImageFiles(folder);
        if (files.Length < 3) throw new ArgumentException($"{Path.GetFullPath(folder)} holds {files.Length} image(s); the protocol needs at least 3 (calibration and evaluation).", nameof(folder));
        new Random(seed).Shuffle(files);
        int calibrationCount = Math.Max(1, files.Length / 3);
        PreparedInput Load(IEnumerable<string> paths)
        {
            var rgb = paths.Select(ImageIO.LoadRgb).ToArray();
            try { return PreparedInput.FromRgb(processor, rgb); }
            finally { foreach (var t in rgb) t.Dispose(); }
        }
        PreparedInput? cal = null, eval = null;
        try
        {
            cal = Load(files.Take(calibrationCount));
            eval = Load(files.Skip(calibrationCount));
            var reference = referenceFolder is null ? null : Load(ImageFiles(referenceFolder));
            return new StudyImages(cal, eval, reference,
                $"{Path.GetFullPath(folder)} (seed {seed}): {calibrationCount} calibration, {files.Length - calibrationCount} evaluation images; "
                + (referenceFolder is null ? "no reference set" : $"reference {Path.GetFullPath(referenceFolder)} ({reference!.Pixels.shape[0]} images)"),
                processor, StripeOverlay);
        }
        catch
        {
            cal?.Dispose(); eval?.Dispose();
            throw;
        }
    }

    /// <summary>Pictures [B, 3, H, W] in [0, 1] with this domain's overlay composed in (a new tensor the caller owns).</summary>
    public torch.Tensor ComposeOverlay(torch.Tensor pictures) => _composeOverlay(pictures);

    /// <summary>Base and overlaid pixels of a set (the caller owns both tensors).</summary>
    public OverlayPair OverlayPair(PreparedInput set)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var scope = torch.NewDisposeScope();
        using var overlaid = Prepare(_processor, _composeOverlay(set.Pictures));
        var basePixels = set.Pixels.clone();
        var overPixels = overlaid.Pixels.to(set.Pixels.dtype, set.Pixels.device);
        return new OverlayPair(basePixels.MoveToOuterDisposeScope(), overPixels.MoveToOuterDisposeScope());
    }

    /// <summary>Disposes every set.</summary>
    public void Dispose()
    {
        Calibration.Dispose();
        Evaluation.Dispose();
        Reference?.Dispose();
    }

    private static string[] ImageFiles(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"image folder not found: {Path.GetFullPath(folder)}");
        var ext = new[] { ".png", ".jpg", ".jpeg", ".bmp" };
        return Directory.GetFiles(folder).Where(f => ext.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .OrderBy(f => f, StringComparer.Ordinal).ToArray();
    }

    /// <summary>Pictures [B, 3, H, W] in [0, 1] → processor input (pixels) and the processed pictures.</summary>
    private static PreparedInput Prepare(ClipImageProcessor processor, torch.Tensor pictures)
    {
        var rgb = Enumerable.Range(0, (int)pictures.shape[0]).Select(i =>
        {
            using var one = pictures.select(0, i).contiguous();
            return ImageIO.ToUint8Hwc(one);
        }).ToArray();
        try { return PreparedInput.FromRgb(processor, rgb); }
        finally { foreach (var t in rgb) t.Dispose(); }
    }

    private static torch.Tensor SyntheticOverlay(torch.Tensor pictures)
    {
        if (pictures.shape[2] == ShapeDomain.ImageSize && pictures.shape[3] == ShapeDomain.ImageSize)
            return ShapeDomain.ComposeOverlay(pictures.cpu());
        return StripeOverlay(pictures);
    }

    private static torch.Tensor StripeOverlay(torch.Tensor pictures)
    {
        using var scope = torch.NewDisposeScope();
        int h = (int)pictures.shape[2], w = (int)pictures.shape[3], side = Math.Max(h, w);
        var stripes = ImageIO.ToFloatChw(DemoImages.Stripes(side)).narrow(1, 0, h).narrow(2, 0, w);
        var mask = DemoImages.RegionMask(side, 0.5, 0.5, 0.5, 0.5).narrow(0, 0, h).narrow(1, 0, w);
        return OverlayStudy.Compose(pictures.cpu(), stripes, mask).MoveToOuterDisposeScope();
    }
}
