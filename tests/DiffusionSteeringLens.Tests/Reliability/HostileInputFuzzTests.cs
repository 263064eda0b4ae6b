using System.Globalization;
using DiffusionSteeringLens.Tests.TestSupport;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Reliability;

/// <summary>
/// The deterministic mutation test over safetensors files, config files and images (issue #12). CI runs
/// <see cref="DefaultInputs"/> inputs; set <c>DSL_FUZZ_INPUTS</c> (e.g. 100000) for a longer run of the same test.
/// </summary>
public sealed class HostileInputFuzzTests(ITestOutputHelper output)
{
    /// <summary>Inputs in a CI run.</summary>
    private const int DefaultInputs = 12_000;

    /// <summary>Environment variable that sets the number of inputs.</summary>
    private const string InputsVariable = "DSL_FUZZ_INPUTS";

    /// <summary>Seed of the mutation stream; fixed so every run tries the same inputs.</summary>
    private const int Seed = 20261130;

    [Fact]
    public void MutatedInputsEndInSuccessOrTheDocumentedExceptionInTimeAndMemory()
    {
        int inputs = Environment.GetEnvironmentVariable(InputsVariable) is { Length: > 0 } text
            ? int.Parse(text, CultureInfo.InvariantCulture)
            : DefaultInputs;
        Assert.True(inputs >= 10_000, $"{InputsVariable}={inputs}: the test needs at least 10,000 inputs.");
        var folder = Fixtures.TempFolder();
        var report = HostileInputFuzzer.Run(inputs, Seed, folder, FuzzCorpus.Build(folder));

        output.WriteLine($"{report.Inputs} inputs in {report.Elapsed.TotalSeconds:0.0} s: {report.Accepted} accepted, {report.Refused} refused with the documented exception, {report.Escapes.Count} escapes");
        output.WriteLine($"slowest input {report.Slowest.TotalMilliseconds:0.0} ms, most managed bytes allocated by one input {report.MostAllocated}");
        foreach (var (op, count) in report.ByOperator) output.WriteLine($"  {op}: {count}");
        foreach (var e in report.Escapes.Take(20)) output.WriteLine($"ESCAPE #{e.Index} {e.InputClass} ({e.Operator}): {e.Problem}");

        Assert.Equal(inputs, report.Inputs);
        Assert.True(report.Escapes.Count == 0,
            $"{report.Escapes.Count} escapes; first: " + string.Join(" | ", report.Escapes.Take(5).Select(e => $"#{e.Index} {e.InputClass} ({e.Operator}): {e.Problem}")));
        // The mutations must reach both outcomes: a fuzzer whose inputs are all refused (or all accepted) tests little.
        Assert.True(report.Accepted > inputs / 20, $"only {report.Accepted} inputs were accepted");
        Assert.True(report.Refused > inputs / 4, $"only {report.Refused} inputs were refused");
    }
}
