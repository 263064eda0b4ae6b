using System.Text.Json;
using DiffusionSteeringLens.Cli.Commands;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary><c>dsl perf</c>: one JSON line per run, GEMM-floor accounting, one-line errors. (No timing is asserted.)</summary>
public sealed class CliPerfTests
{
    [Fact]
    public async Task Gemm_prints_one_json_line_with_its_rate()
    {
        var run = await CliRun.WithHost(new[] { "perf", "gemm", "--size", "64", "--iterations", "2", "--warmup", "0", "--threads", "1" });
        Assert.True(run.ExitCode == 0, run.Error);
        var line = Assert.Single(run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(line);
        var r = json.RootElement;
        Assert.Equal("gemm", r.GetProperty("op").GetString());
        Assert.Equal(64, r.GetProperty("size").GetInt32());
        Assert.Equal(2, r.GetProperty("iterations").GetInt32());
        Assert.True(r.GetProperty("gflops").GetDouble() > 0);
        Assert.True(r.GetProperty("min_ms").GetDouble() <= r.GetProperty("median_ms").GetDouble());
        Assert.True(r.GetProperty("median_ms").GetDouble() <= r.GetProperty("max_ms").GetDouble());
    }

    [Fact]
    public async Task Encoder_forward_reports_its_gflop_and_floor_ratio_on_the_shipped_model()
    {
        var run = await CliRun.WithHost(new[] { "perf", "encoder-forward", "--iterations", "1", "--warmup", "0" });
        Assert.True(run.ExitCode == 0, run.Error);
        using var json = JsonDocument.Parse(run.Out.Trim());
        var r = json.RootElement;
        Assert.True(r.GetProperty("gemm_gflops").GetDouble() > 0);
        Assert.True(r.GetProperty("floor_ratio").GetDouble() > 0);
        // shapes32: 65 tokens, hidden 96, MLP 384, 4 layers (the formula is checked against published sizes below).
        Assert.Equal(Math.Round(PerfCommand.EncoderGflop(Shapes32, 1), 3), r.GetProperty("gflop").GetDouble(), 6);
    }

    [Fact]
    public async Task A_bfloat16_encoder_forward_reports_its_cosine_to_float32()
    {
        var run = await CliRun.WithHost(new[] { "perf", "encoder-forward", "--iterations", "1", "--warmup", "0", "--dtype", "bfloat16", "--batch", "2" });
        Assert.True(run.ExitCode == 0, run.Error);
        using var json = JsonDocument.Parse(run.Out.Trim());
        double cosine = json.RootElement.GetProperty("cosine_vs_float32_min").GetDouble();
        // bfloat16 keeps 8 mantissa bits (relative rounding 2^-9 per value); through 4 layers the embedding's direction
        // moves by far less than the 0.01 this bound allows, and it cannot exceed 1.
        Assert.InRange(cosine, 0.99, 1.0 + 1e-9);

        var fp32 = await CliRun.WithHost(new[] { "perf", "encoder-forward", "--iterations", "1", "--warmup", "0" });
        using var plain = JsonDocument.Parse(fp32.Out.Trim());
        Assert.False(plain.RootElement.TryGetProperty("cosine_vs_float32_min", out _), "float32 has nothing to compare with");
    }

    [Fact]
    public async Task Unet_step_reports_its_counted_gflop_and_floor_ratio_on_the_shipped_decoder()
    {
        var run = await CliRun.WithHost(new[] { "perf", "unet-step", "--iterations", "1", "--warmup", "0" });
        Assert.True(run.ExitCode == 0, run.Error);
        using var json = JsonDocument.Parse(run.Out.Trim());
        var r = json.RootElement;
        Assert.True(r.GetProperty("gflop").GetDouble() > 0);                      // the count itself: MatmulFlopCounterTests
        Assert.True(r.GetProperty("floor_ratio").GetDouble() > 0);
    }

    [Theory]
    [InlineData("bogus", "unknown perf op")]
    [InlineData("gemm --iterations 0", "--iterations must be at least 1")]
    [InlineData("gemm --dtype float8", "--dtype must be")]
    [InlineData("gemm --size 0", "--size must be at least 1")]
    public async Task Bad_arguments_are_one_line_errors(string args, string mentioned)
    {
        var run = await CliRun.WithHost(new[] { "perf" }.Concat(args.Split(' ')).ToArray());
        run.AssertOneLineError(1, mentioned);
    }

    /// <summary>The matmul FLOPs of a forward match the sizes the performance issue quotes: ≈35 (ViT-B/16) and ≈966 (ViT-bigG/14).</summary>
    [Fact]
    public void Encoder_gflop_matches_published_model_sizes()
    {
        var b16 = new VitArchitecture("clip", 12, 12, 768, 64, 3072, 512, 197, 0, 224);
        var bigG = new VitArchitecture("clip", 48, 16, 1664, 104, 8192, 1280, 257, 0, 224);
        Assert.InRange(PerfCommand.EncoderGflop(b16, 1), 34.5, 35.5);
        Assert.InRange(PerfCommand.EncoderGflop(bigG, 1), 960, 972);
        Assert.Equal(2 * PerfCommand.EncoderGflop(b16, 1), PerfCommand.EncoderGflop(b16, 2), 9);
    }

    private static readonly VitArchitecture Shapes32 = new("clip", 4, 4, 96, 24, 384, 32, 65, 0, 32);
}
