using System.Diagnostics;
using DiffusionSteeringLens.Tests.TestSupport;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary>
/// A real `dsl rank` process on the shipped model (real decoder), killed with SIGKILL at several moments and resumed,
/// ends with the same bytes as an uninterrupted run: every picture, and the results table.
/// </summary>
public sealed class CliKillResumeTests
{
    private readonly ITestOutputHelper _out;

    public CliKillResumeTests(ITestOutputHelper output) => _out = output;

    private static string[] Rank(string outDir) =>
        new[] { "rank", "--out", outDir, "--steps", "3", "--batch-size", "1", "--threads", "1", "--resume" };

    [Fact]
    public void Killed_runs_resume_to_byte_identical_outputs()
    {
        var reference = Fixtures.TempFolder();
        var done = RunToEnd(Rank(reference));
        var pictures = Pictures(reference);
        Assert.Equal(32, pictures.Length); // 16 heads × (DSL, DL)
        _out.WriteLine($"uninterrupted run: {done.TotalSeconds:F1} s, {pictures.Length} pictures");

        var dir = Fixtures.TempFolder();
        // Kill after 1, then 9, then 20 finished pictures (the process may be inside a write when it dies).
        foreach (int after in new[] { 1, 9, 20 })
        {
            int finished = KillAfter(Rank(dir), after);
            _out.WriteLine($"killed with {finished} pictures on disk");
            Assert.InRange(finished, after, 31);
        }
        RunToEnd(Rank(dir));

        var got = Pictures(dir);
        Assert.Equal(pictures.Select(p => Path.GetRelativePath(reference, p)), got.Select(p => Path.GetRelativePath(dir, p)));
        foreach (var (want, have) in pictures.Zip(got))
            Assert.True(File.ReadAllBytes(want).AsSpan().SequenceEqual(File.ReadAllBytes(have)), $"{Path.GetRelativePath(dir, have)} differs from the uninterrupted run");
        Assert.Equal(File.ReadAllText(Path.Combine(reference, "results.csv")), File.ReadAllText(Path.Combine(dir, "results.csv")));
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "pictures"), "*.tmp", SearchOption.AllDirectories));
    }

    private static string[] Pictures(string root) =>
        Directory.GetFiles(Path.Combine(root, "pictures"), "*.png", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal).ToArray();

    private static Process Start(string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dsl.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var p = Process.Start(info)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static TimeSpan RunToEnd(string[] args)
    {
        var clock = Stopwatch.StartNew();
        using var p = Start(args);
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)), "dsl rank did not finish within 5 minutes");
        Assert.Equal(0, p.ExitCode);
        return clock.Elapsed;
    }

    /// <summary>Starts the run and SIGKILLs it as soon as at least <paramref name="after"/> pictures exist.</summary>
    private static int KillAfter(string[] args, int after)
    {
        using var p = Start(args);
        var outDir = args[Array.IndexOf(args, "--out") + 1];
        var sweeps = Path.Combine(outDir, "pictures");
        var deadline = Stopwatch.StartNew();
        int count = 0;
        while (!p.HasExited && deadline.Elapsed < TimeSpan.FromMinutes(5))
        {
            count = Directory.Exists(sweeps) ? Directory.GetFiles(sweeps, "*.png", SearchOption.AllDirectories).Length : 0;
            if (count >= after) break;
            Thread.Sleep(10);
        }
        Assert.False(p.HasExited, $"the run ended before {after} pictures existed (exit {(p.HasExited ? p.ExitCode : -1)})");
        p.Kill(entireProcessTree: true); // SIGKILL on Unix: no cleanup code runs
        p.WaitForExit();
        return Directory.GetFiles(sweeps, "*.png", SearchOption.AllDirectories).Length;
    }
}
