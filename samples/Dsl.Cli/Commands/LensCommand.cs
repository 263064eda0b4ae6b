using System.CommandLine;
using DiffusionSteeringLens.Experiments;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary><c>dsl lens</c>: Diffusion Lens layer sweep (every resid_post read out, decoded when a decoder is available).</summary>
internal static class LensCommand
{
    public static Command Create(CliHost host) => ExperimentCommand.Create(host, "lens",
        "Diffusion Lens layer sweep: read out (and decode) the residual stream after every layer.", steering: false, null,
        _ => async (session, display, outputs, ct) =>
        {
            using var sweep = await display.RunAsync(p => LensStudy.LayerSweep(session.Context(p), ct), ct).ConfigureAwait(false);
            Figures.LayerSweep(outputs, session, sweep);
            foreach (var r in sweep.Readouts)
                display.Log($"{r.Target,-14} embedding {RunOutputs.Score(r.EmbeddingSimilarity)}" + (r.ImageSimilarity is { } s ? $"  image {RunOutputs.Score(s)}" : ""));
            return StudyResultsFactory.Base(session, "lens", steering: false) with { LayerSweep = sweep.Readouts };
        });
}
