using System.CommandLine;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary><c>dsl steer</c>: DSL on chosen heads/MLPs (with DL on the same targets for comparison).</summary>
internal static class SteerCommand
{
    public static Command Create(CliHost host)
    {
        var targets = new Option<string>("--targets")
        {
            Description = "Targets: all-heads, all-mlps, L36H4,L47H14, mlp:30, or layer ranges like L2-3 (every head of layers 2..3).",
            Required = true,
            HelpName = "LIST",
        };
        return ExperimentCommand.Create(host, "steer", "Diffusion Steering Lens on chosen heads/MLPs, next to DL on the same targets.", steering: true,
            c => c.Add(targets),
            r =>
            {
                var text = r.GetValue(targets)!;
                TargetListText.RequireEntries(text);
                return async (session, display, outputs, ct) =>
                {
                    IReadOnlyList<LensTarget> list;
                    try { list = LensTarget.ParseList(text, session.Encoder.Architecture); }
                    catch (FormatException e) { throw new CliUsageException("--targets: " + e.Message); }
                    if (list.FirstOrDefault(t => t is not SubmoduleTarget) is { } resid)
                        throw new CliUsageException($"--targets: '{resid.Label}' is a residual site; steer takes heads and MLPs (use 'dsl lens' for residual sites).");
                    var steering = new SteeringOptions { Steering = session.Settings.Steering };
                    var (dsl, dl) = await display.RunAsync(p =>
                    {
                        // One encoder pass serves both lenses (DSL's closed form, DL's direct read-outs, the clean output).
                        return LensStudy.SteeringAndDirectReadouts(session.Context(p), steering, list, "dsl-targets", "dl-targets", ct);
                    }, ct).ConfigureAwait(false);
                    using (dsl)
                    using (dl)
                    {
                        Figures.Targets(outputs, dsl, dl);
                        for (int i = 0; i < list.Count; i++)
                            display.Log($"{list[i].Label,-10} DSL {RunOutputs.Score(dsl.Readouts[i].ImageSimilarity ?? dsl.Readouts[i].EmbeddingSimilarity)}  DL {RunOutputs.Score(dl.Readouts[i].ImageSimilarity ?? dl.Readouts[i].EmbeddingSimilarity)}");
                        return StudyResultsFactory.Base(session, "steer") with { Targets = dsl.Readouts.Concat(dl.Readouts).ToArray() };
                    }
                };
            });
    }
}
