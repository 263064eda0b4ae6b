using System.CommandLine;
using System.Globalization;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary><c>dsl validate</c>: the validation protocol (importance correlation with CIs, DSL vs DL, trajectories) on fixed image sets.</summary>
internal static class ValidateCommand
{
    public static Command Create(CliHost host)
    {
        var v = new ValidationOptions();
        return ExperimentCommand.Create(host, "validate",
            "Head-level Spearman ρ of DSL, DL-on-heads and baselines with ablation importance (permutation p, bootstrap CI), DSL − DL Δρ, and ablation trajectories vs random orders, on calibration/evaluation image sets.",
            steering: true, c => { v.AddTo(c); c.Add(v.Readout); c.Add(v.Shard); },
            r =>
            {
                var settings = v.Bind(r);
                var loadImages = v.BindImages(r);
                var readout = v.BindReadout(r);
                var auto = ValidationOptions.BindAutoSteering(r);
                var shard = v.BindShard(r);
                return async (session, display, outputs, ct) =>
                {
                    using var images = loadImages(session.Processor);
                    if (shard is not null) return await MeasureShard(session, display, images, settings, readout, auto, shard, ct).ConfigureAwait(false);
                    var (ranking, validation, calibration) = await display.RunAsync(p =>
                    {
                        // The strength is chosen on the calibration images only, before the evaluation images are scored.
                        var cal = auto is { } family ? LensStudy.CalibrateSteering(session.Encoder, images, family, readout, settings.Ablation, null, p, ct) : null;
                        var steering = new SteeringOptions { Steering = cal?.Chosen ?? session.Settings.Steering, Readout = readout };
                        var rk = LensStudy.RankHeads(session.Context(p), steering, ct);
                        try { return (rk, LensStudy.Validate(session.Encoder, images, steering, settings, p, ct), cal); }
                        catch { rk.Dispose(); throw; }
                    }, ct).ConfigureAwait(false);
                    using (ranking)
                    {
                        Figures.TopHeads(outputs, ranking, session.Settings.TopK);
                        RankCommand.LogTop(display, ranking.Rows, session.Settings.TopK);
                        if (calibration is not null) LogCalibration(display, calibration);
                        Log(display, validation);
                        var described = Described(calibration?.Chosen ?? session.Settings.Steering, calibration, readout);
                        return StudyResultsFactory.Base(session, "validate") with
                        {
                            Heads = ranking.Rows, Validation = validation, Images = images.Description, Steering = described,
                        };
                    }
                };
            });
    }

    /// <summary>
    /// <c>--shard i/n</c>: only the per-image measurements of this shard's evaluation images (no head ranking of the input,
    /// no statistics — they need every image; <c>dsl merge</c> computes them).
    /// </summary>
    private static async Task<StudyResults> MeasureShard(Session session, ProgressDisplay display, StudyImages images, ValidationSettings settings,
        ReadoutMode readout, SteeringFamily? auto, ValidationShard shard, CancellationToken ct)
    {
        var (measurements, calibration) = await display.RunAsync(p =>
        {
            // Deterministic on the calibration images, so every shard chooses the same strength (merge checks the steering).
            var cal = auto is { } family ? LensStudy.CalibrateSteering(session.Encoder, images, family, readout, settings.Ablation, null, p, ct) : null;
            var steering = new SteeringOptions { Steering = cal?.Chosen ?? session.Settings.Steering, Readout = readout };
            return (ValidationOptions.Measuring(() => LensStudy.MeasureValidation(session.Encoder, images, steering, settings, shard, p, ct)), cal);
        }, ct).ConfigureAwait(false);
        if (calibration is not null) LogCalibration(display, calibration);
        var measured = measurements.PerImage;
        display.Log(measured.Count == 0 ? $"shard {shard}: no evaluation images"
            : $"shard {shard}: measured evaluation images {measured[0].Image}…{measured[^1].Image} of {measurements.EvaluationImages}; combine every shard with 'dsl merge'");
        return StudyResultsFactory.Base(session, "validate") with
        {
            ValidationShard = measurements, Images = images.Description, Steering = Described(calibration?.Chosen ?? session.Settings.Steering, calibration, readout),
        };
    }

    private static string Described(SteeringFunction chosen, SteeringCalibrationResult? calibration, ReadoutMode readout) =>
        (calibration is null ? chosen.ToString() : $"{chosen} (auto, chosen on {calibration.CalibrationImages} calibration images)")
        + (readout == ReadoutMode.FrozenLayerNorm ? ", frozen-LN read-out" : "");

    /// <summary>Prints the calibration grid and the chosen strength.</summary>
    public static void LogCalibration(ProgressDisplay display, SteeringCalibrationResult c)
    {
        var grid = string.Join(", ", c.Grid.Select(g => $"{g.Steering} ρ = {g.Rho.ToString("0.000", CultureInfo.InvariantCulture)}"));
        display.Log($"steering chosen on {c.CalibrationImages} calibration images (head-level ρ with ablation importance, {c.SilentHeads.Count} silent heads left out): {grid}");
        display.Log($"  chosen: {c.Chosen}; the evaluation below uses it and was not looked at for the choice");
    }

    /// <summary>Prints the verdict of every study, then the warnings.</summary>
    public static void Log(ProgressDisplay display, ValidationResult v)
    {
        display.Log($"validation ({v.Ablation.ToString().ToLowerInvariant()} ablation, {v.ScoreSpace.ToString().ToLowerInvariant()} space): {v.Images}");
        foreach (var l in v.Lenses) display.Log("  " + l.Verdict);
        display.Log("  " + v.DslVsDlVerdict);
        if (v.ContrastVsDlVerdict is { } contrastLine) display.Log("  " + contrastLine);
        display.Log("  " + v.TrajectoryVerdict);
        if (v.SilentHeads.Count > 0) display.Log($"  left out as silent: {string.Join(", ", v.SilentHeads)}");
        foreach (var w in v.Warnings) display.Log("  warning: " + w);
    }
}
