using System.CommandLine;
using DiffusionSteeringLens.Cli.Commands;
using DiffusionSteeringLens.Runtime;

namespace DiffusionSteeringLens.Cli;

/// <summary>The <c>dsl</c> command line, invocable in-process (tests) or from <c>Program</c>.</summary>
public static class DslCli
{
    /// <summary>Runs the tool. No command (no arguments, or options only) runs <c>demo</c>.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="output">Standard output (progress, summaries).</param>
    /// <param name="error">Standard error (one line per failure).</param>
    /// <param name="cancellationToken">Stops the run; finished results stay on disk.</param>
    /// <returns>0 success, 1 bad input or usage, 2 internal error.</returns>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default) =>
        RunAsync(args, output, error, ComputeThread.Pool, cancellationToken);

    /// <summary>Runs the tool with its long libtorch work on <paramref name="compute"/> (the program passes its first thread).</summary>
    internal static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, ComputeThread compute, CancellationToken cancellationToken) =>
        RunAsync(args, new CliHost
        {
            Out = output,
            Error = error,
            Compute = compute,
            // Live bars only on a real terminal; redirected output (CI, files, tests) gets plain log lines.
            LiveProgress = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected,
        }, cancellationToken);

    internal static async Task<int> RunAsync(string[] args, CliHost host, CancellationToken cancellationToken = default)
    {
        host.Arguments = args.ToArray(); // as typed, before the demo default below
        ParseResult parse;
        try
        {
            TorchNativeLoader.EnsureLoaded();
            TorchNativeLoader.EnableMemoryReuse(); // large decoder temporaries reuse memory instead of page-faulting fresh pages
            parse = Parse(args, host);
        }
        catch (Exception e)
        {
            host.Error.WriteLine("internal error: " + CommandRunner.OneLine(e.Message));
            return ExitCodes.InternalError;
        }
        if (parse.Errors.Count > 0)
        {
            // One line: the first problem plus where to look, not System.CommandLine's multi-line usage dump.
            var command = parse.CommandResult.Command;
            var name = command is RootCommand ? "dsl" : "dsl " + command.Name;
            var first = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0];
            host.Error.WriteLine($"error: {CommandRunner.OneLine(first.Message)} (see '{name} --help')");
            return ExitCodes.BadInput;
        }
        // Ctrl-C is handled by Program (cooperative cancellation, results kept); System.CommandLine must not kill the process.
        var config = new InvocationConfiguration { Output = host.Out, Error = host.Error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
        try
        {
            return await parse.InvokeAsync(config, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            host.Error.WriteLine("internal error: " + CommandRunner.OneLine(e.Message));
            return ExitCodes.InternalError;
        }
    }

    /// <summary>
    /// Parses a command line against the real command tree without running anything (the documented command lines are
    /// checked this way). No command (nothing, or options only, e.g. <c>dsl --steps 10</c>) means <c>demo</c>.
    /// </summary>
    internal static ParseResult Parse(string[] args, CliHost host)
    {
        if (args.Length == 0 || (args[0].StartsWith('-') && args[0] is not ("-h" or "--help" or "-?" or "--version")))
            args = new[] { "demo" }.Concat(args).ToArray();
        return Build(host).Parse(args);
    }

    private static RootCommand Build(CliHost host) => new("dsl: Diffusion Lens / Diffusion Steering Lens for Vision Transformers. With no arguments: runs the demo.")
    {
        LensCommand.Create(host),
        SteerCommand.Create(host),
        RankCommand.Create(host),
        ValidateCommand.Create(host),
        OverlayCommand.Create(host),
        ImageScoresCommand.Create(host),
        DemoCommand.Create(host),
        InspectCommand.Create(host),
        ExportCommand.Create(host),
        PerfCommand.Create(host),
        PoolCommand.Create(host),
        MergeCommand.Create(host),
        MakeRandomCommand.Create(host),
    };
}
