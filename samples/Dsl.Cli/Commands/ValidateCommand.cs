using System.CommandLine;
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
            steering: true, v.AddTo,
            r =>
            {
                var settings = v.Bind(r);
                var loadImages = v.BindImages(r);
                return async (session, display, outputs, ct) =>
                {
                    using var images = loadImages(session.Processor);
                    var steering = new SteeringOptions { Steering = session.Settings.Steering };
                    var (ranking, validation) = await display.RunAsync(p =>
                    {
                        var rk = LensStudy.RankHeads(session.Context(p), steering, ct);
                        try { return (rk, LensStudy.Validate(session.Encoder, images, steering, settings, p, ct)); }
                        catch { rk.Dispose(); throw; }
                    }, ct).ConfigureAwait(false);
                    using (ranking)
                    {
                        Figures.TopHeads(outputs, ranking, session.Settings.TopK);
                        RankCommand.LogTop(display, ranking.Rows, session.Settings.TopK);
                        Log(display, validation);
                        return StudyResultsFactory.Base(session, "validate") with { Heads = ranking.Rows, Validation = validation, Images = images.Description };
                    }
                };
            });
    }

    /// <summary>Prints the verdict of every study, then the warnings.</summary>
    public static void Log(ProgressDisplay display, ValidationResult v)
    {
        display.Log($"validation ({v.Ablation.ToString().ToLowerInvariant()} ablation, {v.ScoreSpace.ToString().ToLowerInvariant()} space): {v.Images}");
        foreach (var l in v.Lenses) display.Log("  " + l.Verdict);
        display.Log("  " + v.DslVsDlVerdict);
        display.Log("  " + v.TrajectoryVerdict);
        if (v.SilentHeads.Count > 0) display.Log($"  left out as silent: {string.Join(", ", v.SilentHeads)}");
        foreach (var w in v.Warnings) display.Log("  warning: " + w);
    }
}
