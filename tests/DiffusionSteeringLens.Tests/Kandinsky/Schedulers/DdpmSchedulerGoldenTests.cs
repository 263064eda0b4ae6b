using System.Text.RegularExpressions;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Kandinsky.Schedulers;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Kandinsky.Schedulers;

/// <summary>DDPM scheduler against the reference values in <c>Fixtures/golden/scheduler</c>, per config variant.</summary>
[Trait("Category", "Golden")]
public sealed class DdpmSchedulerGoldenTests
{
    private const double Tol = 1e-4;
    private readonly ITestOutputHelper _output;

    public DdpmSchedulerGoldenTests(ITestOutputHelper output) => _output = output;

    /// <summary>One row per scheduler variant (the prefix of <c>{variant}.betas</c>).</summary>
    public static IEnumerable<object[]> Cases() =>
        Fixtures.Cases("scheduler", f => Fixtures.PrefixCases(f, @"^(.+)\.betas$"));

    [Theory, MemberData(nameof(Cases))]
    public void Betas_and_alphas_cumprod_match(GoldenCase goldenCase)
    {
        goldenCase.EnsurePresent();
        using var cases = goldenCase.OpenCases();
        using var scheduler = Open(goldenCase, cases);
        using var betas = cases.Load($"{goldenCase.Name}.betas");
        using var alphasCumprod = cases.Load($"{goldenCase.Name}.alphas_cumprod");
        _output.WriteLine($"betas max abs {TensorAssert.CloseScaled(betas, scheduler.Betas, Tol, $"{goldenCase} betas"):E3}");
        _output.WriteLine($"alphas_cumprod max abs {TensorAssert.CloseScaled(alphasCumprod, scheduler.AlphasCumprod, Tol, $"{goldenCase} alphas_cumprod"):E3}");
    }

    [Theory, MemberData(nameof(Cases))]
    public void Timesteps_match_exactly(GoldenCase goldenCase)
    {
        goldenCase.EnsurePresent();
        using var cases = goldenCase.OpenCases();
        using var scheduler = Open(goldenCase, cases);
        var pattern = new Regex("^" + Regex.Escape(goldenCase.Name) + @"\.timesteps\.(\d+)$");
        var grids = cases.Names.Select(n => pattern.Match(n)).Where(m => m.Success).ToList();
        Assert.NotEmpty(grids);
        foreach (var m in grids)
        {
            int n = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            scheduler.SetTimesteps(n);
            using var expected = cases.Load(m.Value);
            using var actual = torch.tensor(scheduler.Timesteps.ToArray());
            TensorAssert.Equal(expected, actual, $"{goldenCase} timesteps({n})");
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void Every_step_matches(GoldenCase goldenCase)
    {
        goldenCase.EnsurePresent();
        using var cases = goldenCase.OpenCases();
        using var scheduler = Open(goldenCase, cases);
        var pattern = new Regex("^" + Regex.Escape(goldenCase.Name) + @"\.(step\d+)\.timestep$");
        var steps = cases.Names.Select(n => pattern.Match(n)).Where(m => m.Success).Select(m => m.Groups[1].Value).OrderBy(s => s, StringComparer.Ordinal).ToList();
        Assert.NotEmpty(steps);
        foreach (var step in steps)
        {
            string p = $"{goldenCase.Name}.{step}";
            using var nTensor = cases.Load($"{p}.num_inference_steps");
            using var tTensor = cases.Load($"{p}.timestep");
            scheduler.SetTimesteps((int)nTensor.item<long>());
            using var modelOutput = cases.Load($"{p}.model_output");
            using var sample = cases.Load($"{p}.sample");
            using var noise = cases.Load($"{p}.variance_noise");
            using var expectedPrev = cases.Load($"{p}.prev_sample");
            using var expectedX0 = cases.Load($"{p}.pred_original_sample");
            using var result = scheduler.Step(modelOutput, tTensor.item<long>(), sample, noise);
            double e1 = TensorAssert.CloseScaled(expectedPrev, result.PrevSample, Tol, $"{goldenCase} {step} prev_sample");
            double e2 = TensorAssert.CloseScaled(expectedX0, result.PredOriginalSample, Tol, $"{goldenCase} {step} pred_original_sample");
            _output.WriteLine($"{step} t={tTensor.item<long>()}: prev_sample {e1:E3}, pred_original_sample {e2:E3}");
        }
    }

    private static DdpmScheduler Open(GoldenCase goldenCase, SafetensorsFile cases)
    {
        var file = cases.Metadata.TryGetValue($"{goldenCase.Name}.config_file", out var f) ? f : "scheduler_config.json";
        return DdpmScheduler.FromPretrained(Path.Combine(goldenCase.Folder, file));
    }
}
