using DiffusionSteeringLens.Cli;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;
using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary>Runs the dsl CLI in-process and captures its output.</summary>
internal sealed record CliRun(int ExitCode, string Out, string Error)
{
    public static string GoldenEncoder => Fixtures.Golden("clip_vision");

    public static string GoldenPixels => Path.Combine(Fixtures.Golden("clip_vision"), "cases.safetensors");

    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The run failed with <paramref name="exitCode"/> and exactly one stderr line (naming <paramref name="mentioned"/>).</summary>
    public void AssertOneLineError(int exitCode, string? mentioned = null)
    {
        Assert.Equal(exitCode, ExitCode);
        Assert.Single(ErrorLines);
        if (mentioned is not null) Assert.Contains(mentioned, Error);
    }

    /// <summary>Runs the public entry point, asserts success, and returns the run's <c>--out</c> folder.</summary>
    public static async Task<string> Succeeds(params string[] args) => (await Public(args)).OutFolder(args);

    /// <summary>Asserts this run succeeded and returns its <c>--out</c> folder (taken from the arguments it ran with).</summary>
    public string OutFolder(string[] args)
    {
        Assert.True(ExitCode == 0, Error);
        return args[Array.IndexOf(args, "--out") + 1];
    }

    /// <summary>The results.json of a run's output folder.</summary>
    public static System.Text.Json.Nodes.JsonObject Results(string dir) =>
        System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!.AsObject();

    /// <summary>The public entry point.</summary>
    public static async Task<CliRun> Public(params string[] args)
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        int code = await DslCli.RunAsync(args, o, e);
        return new CliRun(code, o.ToString(), e.ToString());
    }

    /// <summary>With test seams: a stand-in renderer, a progress observer, a cancellation token, a base directory, the available memory.</summary>
    public static async Task<CliRun> WithHost(string[] args, FakeRenderer? renderer = null, Action<LensProgress>? observer = null,
        CancellationToken ct = default, string? baseDirectory = null, long? memory = null)
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        var host = new CliHost
        {
            Out = o,
            Error = e,
            RendererOverride = renderer is null ? null : (IHookedVit _) => (renderer.Render, "fake renderer"),
            ProgressObserver = observer,
            BaseDirectory = baseDirectory ?? AppContext.BaseDirectory,
            MemoryProbe = memory is { } bytes ? () => bytes : AvailableMemory.Bytes,
        };
        int code = await DslCli.RunAsync(args, host, ct);
        return new CliRun(code, o.ToString(), e.ToString());
    }
}
