using System.CommandLine;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary><c>dsl validate</c>: rank heads, then correlate the scores with ablation importance and run ablation trajectories.</summary>
internal static class ValidateCommand
{
    public static Command Create(CliHost host)
    {
        var v = new ValidationOptions();
        return ExperimentCommand.Create(host, "validate",
            "Importance correlation (Spearman ρ with permutation p) of DSL and DL-on-heads scores, plus cumulative ablation trajectories.",
            steering: true, v.AddTo,
            r =>
            {
                var (steps, seeds, perms, kind) = v.Bind(r);
                return async (session, display, outputs, ct) =>
                {
                    var arch = session.Encoder.Architecture;
                    var steering = new SteeringOptions { Steering = session.Settings.Steering };
                    var (ranking, validation) = await display.RunAsync(p =>
                    {
                        var ctx = session.Context(p);
                        var rk = LensStudy.RankHeads(ctx, steering, ct);
                        try
                        {
                            var (val, rows) = LensStudy.Validate(ctx, rk.Rows, steps ?? Math.Min(32, arch.NumLayers * arch.NumHeads), seeds, perms, kind, ct);
                            return (rk with { Rows = rows }, val);
                        }
                        catch { rk.Dispose(); throw; }
                    }, ct).ConfigureAwait(false);
                    using (ranking)
                    {
                        Figures.TopHeads(outputs, ranking, session.Settings.TopK);
                        RankCommand.LogTop(display, ranking.Rows, session.Settings.TopK);
                        Log(display, validation);
                        return StudyResultsFactory.Base(session, "validate") with { Heads = ranking.Rows, Validation = validation };
                    }
                };
            });
    }

    public static void Log(ProgressDisplay display, ValidationResult v)
    {
        display.Log($"Spearman ρ vs ablation importance ({v.ScoreSpace} scores): DSL {RunOutputs.Score(v.Dsl.Rho)} (p={RunOutputs.Score(v.Dsl.PValue)}), DL-on-heads {RunOutputs.Score(v.Dl.Rho)} (p={RunOutputs.Score(v.Dl.PValue)})");
        display.Log($"trajectories: AUC DSL {RunOutputs.Score(v.Trajectories.Dsl.Auc)}, greedy {RunOutputs.Score(v.Trajectories.Greedy.Auc)}, normalised {RunOutputs.Score(v.Trajectories.NormalizedAuc)}");
    }
}
