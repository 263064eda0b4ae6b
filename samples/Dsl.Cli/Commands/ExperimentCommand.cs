using System.CommandLine;
using System.Diagnostics;
using DiffusionSteeringLens.Experiments;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>The shared shape of the experiment commands: bind options, load models and input, run, write outputs.</summary>
internal static class ExperimentCommand
{
    public delegate Task<StudyResults> Body(Session session, ProgressDisplay display, RunOutputs outputs, CancellationToken ct);

    // adjustSettings: command-specific defaults applied to the bound common options (e.g. the demo's model).
    public static Command Create(CliHost host, string name, string description, bool steering, Action<Command>? extraOptions,
        Func<ParseResult, Body> body, Func<ParseResult, RunSettings, RunSettings>? adjustSettings = null)
    {
        var command = new Command(name, description);
        var options = new CommonOptions();
        options.AddTo(command, steering);
        extraOptions?.Invoke(command);
        command.SetAction((r, ct) => CommandRunner.Guard(host, r.GetValue(options.Verbose), async () =>
        {
            var settings = options.Bind(r);
            if (adjustSettings is not null) settings = adjustSettings(r, settings);
            var run = body(r); // binds the command's own options first, so bad values fail before any loading
            var display = new ProgressDisplay(host);
            var watch = Stopwatch.StartNew();
            using var session = Session.Open(settings, host, decode: true, display);
            var outputs = new RunOutputs(settings.Out, display);
            var results = await run(session, display, outputs, ct).ConfigureAwait(false);
            Figures.Input(outputs, session);
            outputs.Results(results, settings.TopK, RunProvenance.Capture(host.Arguments, settings));
            display.Log($"done in {watch.Elapsed.TotalSeconds:0.0} s; report: {Path.Combine(outputs.Folder, "report.html")}");
            return ExitCodes.Success;
        }));
        return command;
    }
}
