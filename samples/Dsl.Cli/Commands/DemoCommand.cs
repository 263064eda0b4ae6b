using System.CommandLine;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary><c>dsl demo</c> (also what <c>dsl</c> with no arguments runs): every study on the shipped model.</summary>
internal static class DemoCommand
{
    public static Command Create(CliHost host)
    {
        var v = new ValidationOptions();
        var noOverlay = new Option<bool>("--no-overlay") { Description = "Skip the overlay-removal study." };
        return ExperimentCommand.Create(host, "demo",
            "Everything on the shipped model (or --encoder/--decoder): DL layer sweep, all-heads DSL ranking, importance correlation, ablation trajectories, overlay study, grids and report.html.",
            steering: true, c => { v.AddTo(c); c.Add(noOverlay); },
            r =>
            {
                var bound = v.Bind(r);
                // The demo keeps to its time budget: trajectories over the first 4 ablations on 4 images unless asked otherwise.
                var settings = bound with
                {
                    TrajectorySteps = bound.TrajectorySteps ?? 4,
                    TrajectoryImages = r.GetResult(v.TrajectoryImages) is { Implicit: false } ? bound.TrajectoryImages : 4,
                };
                var loadImages = v.BindImages(r);
                bool overlay = !r.GetValue(noOverlay);
                return async (session, display, outputs, ct) =>
                {
                    var options = new DemoOptions
                    {
                        Steering = new SteeringOptions { Steering = session.Settings.Steering },
                        Validation = settings,
                        RunOverlay = overlay,
                    };
                    using var images = loadImages(session.Processor);
                    using var demo = await display.RunAsync(p => DemoPipeline.Run(session.Context(p), images, options, ct), ct).ConfigureAwait(false);
                    Figures.LayerSweep(outputs, session, demo.LayerSweep);
                    Figures.TopHeads(outputs, demo.Ranking, session.Settings.TopK);
                    if (demo.Overlay is { } o) Figures.Overlay(outputs, images, o);
                    RankCommand.LogTop(display, demo.Ranking.Rows, Math.Min(5, session.Settings.TopK));
                    if (demo.Results.Validation is { } val) ValidateCommand.Log(display, val);
                    if (demo.Overlay is { } ov) display.Log(ov.Verdict);
                    var b = StudyResultsFactory.Base(session, "demo");
                    return demo.Results with
                    {
                        Encoder = b.Encoder, Decoder = b.Decoder, Input = b.Input, DecodeSettings = b.DecodeSettings,
                    };
                };
            });
    }
}
