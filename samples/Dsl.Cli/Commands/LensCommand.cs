using System.CommandLine;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary><c>dsl lens</c>: Diffusion Lens layer sweep (every resid_post read out, decoded when a decoder is available), or DL on chosen sites.</summary>
internal static class LensCommand
{
    public static Command Create(CliHost host)
    {
        var targets = new Option<string?>("--targets")
        {
            Description = "Sites to read out instead of the layer sweep, e.g. resid_mid:3,resid_pre:0 or all-layers; heads/MLPs give DL on that output alone.",
            HelpName = "LIST",
        };
        return ExperimentCommand.Create(host, "lens",
            "Diffusion Lens layer sweep: read out (and decode) the residual stream after every layer.", steering: false, c => c.Add(targets),
            r =>
            {
                var text = r.GetValue(targets);
                if (text is not null) TargetListText.RequireEntries(text);
                return async (session, display, outputs, ct) =>
                {
                    IReadOnlyList<LensTarget>? list = null;
                    if (text is not null)
                    {
                        try { list = LensTarget.ParseList(text, session.Encoder.Architecture); }
                        catch (FormatException e) { throw new CliUsageException("--targets: " + e.Message); }
                    }
                    using var sweep = await display.RunAsync(p => list is null
                        ? LensStudy.LayerSweep(session.Context(p), ct)
                        : LensStudy.Readouts(session.Context(p), new DiffusionLens(session.Encoder), list, "dl-targets", ct), ct).ConfigureAwait(false);
                    Figures.LayerSweep(outputs, session, sweep);
                    foreach (var x in sweep.Readouts)
                        display.Log($"{x.Target,-14} embedding {RunOutputs.Score(x.EmbeddingSimilarity)}" + (x.ImageSimilarity is { } s ? $"  image {RunOutputs.Score(s)}" : ""));
                    var results = StudyResultsFactory.Base(session, "lens", steering: false);
                    return list is null ? results with { LayerSweep = sweep.Readouts } : results with { Targets = sweep.Readouts };
                };
            });
    }
}
