using System.CommandLine;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Synthetic;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>
/// Options of the studies over many images (rank, validate, overlay, demo): the image sets, fixed before running,
/// and the statistics. Image sets: <c>--images DIR</c> (a third calibrates, the rest is evaluated) or the synthetic
/// shapes domain by count and seed.
/// </summary>
internal sealed class ValidationOptions
{
    public Option<string?> Images { get; } = new("--images") { Description = "Folder of study images (png/jpg/bmp); a seeded third calibrates, the rest is evaluated. Default: the synthetic shapes domain.", HelpName = "DIR" };
    public Option<int> Synthetic { get; } = new("--synthetic") { Description = "Evaluation images drawn from the synthetic shapes domain (with 20 calibration and 200 reference images).", DefaultValueFactory = _ => StudyImages.DefaultEvaluationCount, HelpName = "N" };
    public Option<int> ImageSeed { get; } = new("--image-seed") { Description = "Seed of the synthetic draw / folder split, and of permutations, bootstrap and random orders.", DefaultValueFactory = _ => 0, HelpName = "SEED" };
    public Option<string> Domain { get; } = new("--domain") { Description = "Synthetic domain of the image sets: shapes (the shipped shapes32 domain) or marked (the 96-head testbed's marked-shapes domain).", DefaultValueFactory = _ => "shapes", HelpName = "shapes|marked" };
    public Option<string?> OverlayKind { get; } = new("--overlay-kind") { Description = "Overlay of the overlay study: stripes (default) or, with --domain marked, any mark: stripes, dots, cross, bar (removed from the study images, composed in for the overlaid copy).", HelpName = "KIND" };
    public Option<string?> ReferenceImages { get; } = new("--reference-images") { Description = "Folder of mean-ablation reference images (needed for --ablation mean with --images).", HelpName = "DIR" };
    public Option<int?> TrajectorySteps { get; } = new("--trajectory-steps") { Description = "Heads ablated along each trajectory. Default: half the heads, at most 16.", HelpName = "N" };
    public Option<int> RandomOrders { get; } = new("--random-orders") { Description = "Random ablation orders the DSL order is compared with.", DefaultValueFactory = _ => AblationTrajectories.DefaultRandomOrders, HelpName = "N" };
    public Option<int> TrajectoryImages { get; } = new("--trajectory-images") { Description = "Evaluation images the trajectories are scored on.", DefaultValueFactory = _ => 8, HelpName = "N" };
    public Option<int> Permutations { get; } = new("--permutations") { Description = "Head-label permutations of the p-values.", DefaultValueFactory = _ => HeadCorrelation.DefaultPermutations, HelpName = "N" };
    public Option<int> Bootstrap { get; } = new("--bootstrap") { Description = "Two-way (images × heads) bootstrap resamples of the CIs.", DefaultValueFactory = _ => HeadCorrelation.DefaultBootstrap, HelpName = "N" };
    public Option<string> Ablation { get; } = new("--ablation") { Description = "zero or mean ablation (mean uses the reference set).", DefaultValueFactory = _ => "zero" };
    public Option<string?> Shard { get; } = new("--shard") { Description = "Measure only shard i of n (0-based, e.g. 0/4) of the evaluation images and write their per-image data; combine the shards with 'dsl merge'. Every shard loads the same image sets (calibration and reference sets included).", HelpName = "i/n" };
    public Option<string> Readout { get; } = new("--readout") { Description = "DSL read-out: recomputed (the model's final LayerNorm) or frozen-ln (its scale taken from the clean residual).", DefaultValueFactory = _ => "recomputed", HelpName = "MODE" };

    /// <summary>Adds the image-set options only (rank, overlay).</summary>
    public void AddImagesTo(Command c)
    {
        c.Add(Images);
        c.Add(Synthetic);
        c.Add(ImageSeed);
        c.Add(Domain);
        c.Add(OverlayKind);
        c.Add(ReferenceImages);
    }

    /// <summary>Adds every option (validate, demo).</summary>
    public void AddTo(Command c)
    {
        AddImagesTo(c);
        c.Add(TrajectorySteps);
        c.Add(RandomOrders);
        c.Add(TrajectoryImages);
        c.Add(Permutations);
        c.Add(Bootstrap);
        c.Add(Ablation);
    }

    /// <summary>Checks the image-set options and returns how to load the sets once the processor is known.</summary>
    /// <param name="r">The parsed command line.</param>
    /// <param name="defaults">
    /// Synthetic-set defaults that replace the options' own when the user did not give them (the demo's budget on the
    /// testbed); null = the options' defaults.
    /// </param>
    public Func<ClipImageProcessor, StudyImages> BindImages(ParseResult r, SyntheticSetDefaults? defaults = null)
    {
        var folder = r.GetValue(Images);
        var reference = r.GetValue(ReferenceImages);
        int count = defaults is not null && Implicit(r, Synthetic) ? defaults.EvaluationImages : r.GetValue(Synthetic);
        int seed = r.GetValue(ImageSeed);
        int calibrationCount = defaults?.CalibrationImages ?? StudyImages.DefaultCalibrationCount;
        int referenceCount = defaults?.ReferenceImages ?? StudyImages.DefaultReferenceCount;
        if (count < 1) throw new CliUsageException($"--synthetic must be at least 1 (got {count}).");
        RequireFolder("--images", folder);
        RequireFolder("--reference-images", reference);
        var domainText = defaults is not null && Implicit(r, Domain) ? defaults.Domain : r.GetValue(Domain);
        bool marked = (domainText ?? "shapes").Trim().ToLowerInvariant() switch
        {
            "shapes" => false,
            "marked" => true,
            var other => throw new CliUsageException($"--domain must be shapes or marked (got '{other}')."),
        };
        var kindText = defaults is not null && Implicit(r, OverlayKind) && folder is null && domainText == defaults.Domain ? defaults.OverlayKind : r.GetValue(OverlayKind);
        MarkKind? mark = kindText is null ? null
            : Enum.TryParse<MarkKind>(kindText.Trim(), ignoreCase: true, out var k) && Enum.IsDefined(k) && !int.TryParse(kindText, out _) ? k
            : throw new CliUsageException($"--overlay-kind must be stripes, dots, cross or bar (got '{kindText}').");
        if (folder is not null && (marked || mark is not null))
            throw new CliUsageException("--domain and --overlay-kind choose synthetic image sets; they cannot be combined with --images.");
        if (!marked && mark is not null and not MarkKind.Stripes)
            throw new CliUsageException($"--overlay-kind {kindText} needs --domain marked (the shapes domain has only the stripes overlay).");
        return processor =>
        {
            if (folder is null && marked) return SyntheticStudyImages.Marked(processor, mark ?? MarkKind.Stripes, count, seed, calibrationCount, referenceCount);
            if (folder is null) return SyntheticStudyImages.Shapes(processor, count, seed, calibrationCount, referenceCount);
            try { return StudyImages.FromFolder(processor, folder, seed, reference); }
            catch (ArgumentException e) { throw new CliUsageException(e.Message); }
        };
    }

    public ValidationSettings Bind(ParseResult r)
    {
        var steps = r.GetValue(TrajectorySteps);
        if (steps is < 1) throw new CliUsageException($"--trajectory-steps must be at least 1 (got {steps}).");
        foreach (var (o, min) in new[] { (RandomOrders, 1), (TrajectoryImages, 1), (Permutations, 1), (Bootstrap, 1) })
            if (r.GetValue(o) < min) throw new CliUsageException($"{o.Name} must be at least {min} (got {r.GetValue(o)}).");
        var kind = (r.GetValue(Ablation) ?? "zero").Trim().ToLowerInvariant() switch
        {
            "zero" => AblationKind.Zero,
            "mean" => AblationKind.Mean,
            var other => throw new CliUsageException($"--ablation must be zero or mean (got '{other}')."),
        };
        if (kind == AblationKind.Mean && r.GetValue(Images) is not null && r.GetValue(ReferenceImages) is null)
            throw new CliUsageException("--ablation mean with --images needs --reference-images DIR (a separate reference set).");
        return new ValidationSettings
        {
            Ablation = kind,
            TrajectorySteps = steps,
            RandomOrders = r.GetValue(RandomOrders),
            TrajectoryImages = r.GetValue(TrajectoryImages),
            Permutations = r.GetValue(Permutations),
            Bootstrap = r.GetValue(Bootstrap),
            Seed = r.GetValue(ImageSeed),
        };
    }

    /// <summary>The shard of <c>--shard i/n</c>, or null for the whole study.</summary>
    public ValidationShard? BindShard(ParseResult r)
    {
        if (r.GetValue(Shard) is not { } text) return null;
        try { return ValidationShard.Parse(text); }
        catch (FormatException e) { throw new CliUsageException("--shard: " + e.Message); }
    }

    /// <summary>Runs a shard's measurements, reporting more shards than blocks of images as a usage error of <c>--shard</c>.</summary>
    public static T Measuring<T>(Func<T> measure)
    {
        try { return measure(); }
        catch (ArgumentException e) when (e.Message.Contains("shards but only", StringComparison.Ordinal)) { throw new CliUsageException("--shard: " + e.Message); }
    }

    /// <summary>The DSL read-out mode (<c>--readout</c>).</summary>
    public ReadoutMode BindReadout(ParseResult r) => (r.GetValue(Readout) ?? "recomputed").Trim().ToLowerInvariant() switch
    {
        "recomputed" => ReadoutMode.Recomputed,
        "frozen-ln" => ReadoutMode.FrozenLayerNorm,
        var other => throw new CliUsageException($"--readout must be recomputed or frozen-ln (got '{other}')."),
    };

    /// <summary>
    /// The family of <c>--steer auto:relative|global</c> (its strength is then chosen on the calibration images), or null
    /// for a fixed steering function.
    /// </summary>
    public static SteeringFamily? BindAutoSteering(ParseResult r)
    {
        var text = r.GetValue<string>("--steer")?.Trim().ToLowerInvariant();
        if (text is null || !text.StartsWith(AutoPrefix, StringComparison.Ordinal)) return null;
        return text[AutoPrefix.Length..] switch
        {
            "relative" => SteeringFamily.Relative,
            "global" => SteeringFamily.GlobalScale,
            var other => throw new CliUsageException($"--steer auto:<family> takes relative or global (got '{other}')."),
        };
    }

    /// <summary>Prefix of a steering whose strength is chosen on calibration images.</summary>
    public const string AutoPrefix = "auto:";

    /// <summary>Whether <paramref name="option"/> was left at its default on the command line.</summary>
    public static bool Implicit(ParseResult r, Option option) => r.GetResult(option) is null or { Implicit: true };

    private static void RequireFolder(string option, string? folder)
    {
        if (folder is null || Directory.Exists(folder)) return;
        throw new CliUsageException(File.Exists(folder)
            ? $"{option} must be a folder of images; {Path.GetFullPath(folder)} is a file."
            : $"{option}: folder not found: {Path.GetFullPath(folder)}");
    }
}
