using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.IO;

namespace DiffusionSteeringLens.Cli;

/// <summary>Runs a command body and maps failures to exit codes: 1 + one stderr line for bad input, 2 for internal errors.</summary>
internal static class CommandRunner
{
    public static async Task<int> Guard(CliHost host, bool verbose, Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (Exception e) when (IsBadInput(e))
        {
            host.Error.WriteLine("error: " + OneLine(e.Message));
            return ExitCodes.BadInput;
        }
        catch (OperationCanceledException)
        {
            host.Error.WriteLine("cancelled: finished results are kept; rerun with --resume to continue.");
            return ExitCodes.BadInput;
        }
        catch (Exception e)
        {
            host.Error.WriteLine($"internal error: {e.GetType().Name}: {OneLine(e.Message)}" + (verbose ? "" : " (run with --verbose for details)"));
            if (verbose) host.Error.WriteLine(e.ToString());
            return ExitCodes.InternalError;
        }
    }

    private static bool IsBadInput(Exception e) => e is CliUsageException or FileNotFoundException or DirectoryNotFoundException
        or CheckpointException or FormatException or ImageDecodeException or UnauthorizedAccessException
        or DiffusionSteeringLens.Decoding.EmbeddingShapeException;

    public static string OneLine(string message) =>
        string.Join(" ", message.Split(new[] { '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
