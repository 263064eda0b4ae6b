using System.Diagnostics;

namespace DiffusionSteeringLens.Train;

/// <summary>Plain progress lines with wall-clock and elapsed time (readable in redirected logs).</summary>
internal static class Log
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();

    public static void Line(string message) =>
        Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} [{Clock.Elapsed.TotalSeconds,7:F0}s] {message}");
}
