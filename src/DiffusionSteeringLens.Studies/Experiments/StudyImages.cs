using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.Models.Vit.ClipVision;
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
        ClipImageProcessor processor, Func<torch.Tensor, torch.Tensor> composeOverlay, string overlayName)
    {
        OverlayName = overlayName;
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

    /// <summary>The overlay the overlay study composes in (e.g. <c>stripes</c>, <c>dots</c>), for logs and reports.</summary>
    public string OverlayName { get; }

    /// <summary>Where the images came from and how they were split, for reports.</summary>
    public string Description { get; }

    /// <summary>Default number of evaluation images of a drawn (synthetic) image set.</summary>
    public const int DefaultEvaluationCount = 50;

    /// <summary>Default number of calibration images of a drawn image set.</summary>
    public const int DefaultCalibrationCount = 20;

    /// <summary>Default number of mean-ablation reference images of a drawn image set.</summary>
    public const int DefaultReferenceCount = 200;

    /// <summary>
    /// Image sets from pictures already in memory (e.g. drawn by a procedural domain). The tensors stay the caller's:
    /// they are preprocessed into new ones.
    /// </summary>
    /// <param name="processor">The encoder's image processor.</param>
    /// <param name="calibration">Calibration pictures [Bc, 3, H, W] in [0, 1] (at least 1).</param>
    /// <param name="evaluation">Evaluation pictures [Be, 3, H, W] in [0, 1] (at least 1), disjoint from calibration.</param>
    /// <param name="reference">Mean-ablation reference pictures, or null (mean ablation then fails with a clear error).</param>
    /// <param name="description">Where the pictures came from and how they were split, for reports.</param>
    /// <param name="composeOverlay">
    /// The overlay study's overlay: pictures [B, 3, H, W] → a new tensor with the overlay composed in; null = black/white
    /// stripes in the bottom-right quadrant.
    /// </param>
    /// <param name="overlayName">Name of the overlay for logs and reports.</param>
    /// <exception cref="ArgumentException">A set is empty or not [B, 3, H, W].</exception>
    public static StudyImages FromPictures(ClipImageProcessor processor, torch.Tensor calibration, torch.Tensor evaluation,
        torch.Tensor? reference, string description, Func<torch.Tensor, torch.Tensor>? composeOverlay = null, string overlayName = "stripes")
    {
        ArgumentNullException.ThrowIfNull(processor);
        ArgumentNullException.ThrowIfNull(calibration);
        ArgumentNullException.ThrowIfNull(evaluation);
        ArgumentNullException.ThrowIfNull(description);
        CheckPictures(calibration, nameof(calibration));
        CheckPictures(evaluation, nameof(evaluation));
        if (reference is not null) CheckPictures(reference, nameof(reference));
        PreparedInput? cal = null, eval = null;
        try
        {
            cal = Prepare(processor, calibration);
            eval = Prepare(processor, evaluation);
            var refs = reference is null ? null : Prepare(processor, reference);
            return new StudyImages(cal, eval, refs, description, processor, composeOverlay ?? StripeOverlay.Compose, overlayName);
        }
        catch
        {
            cal?.Dispose(); eval?.Dispose();
            throw;
        }
    }

    private static void CheckPictures(torch.Tensor pictures, string name)
    {
        if (pictures.ndim != 4 || pictures.shape[1] != 3 || pictures.shape[0] < 1)
            throw new ArgumentException($"{name} pictures must be [B ≥ 1, 3, H, W]; got [{string.Join(", ", pictures.shape)}].", name);
    }

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
                processor, StripeOverlay.Compose, "stripes");
        }
        catch
        {
            cal?.Dispose(); eval?.Dispose();
            throw;
        }
    }

    /// <summary>Pictures [B, 3, H, W] in [0, 1] with this domain's overlay composed in (a new tensor the caller owns).</summary>
    public torch.Tensor ComposeOverlay(torch.Tensor pictures) => _composeOverlay(pictures);

    /// <summary>
    /// The default overlay (used for image folders and by <see cref="FromPictures"/> when none is given): black/white
    /// diagonal stripes in the bottom-right quadrant of pictures [B, 3, H, W] in [0, 1]; a new CPU tensor the caller owns.
    /// </summary>
    public static torch.Tensor ComposeDefaultOverlay(torch.Tensor pictures)
    {
        ArgumentNullException.ThrowIfNull(pictures);
        return StripeOverlay.Compose(pictures);
    }

    /// <summary>Base and overlaid pixels of a set, freshly allocated; the caller owns the pair (dispose it).</summary>
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
}
