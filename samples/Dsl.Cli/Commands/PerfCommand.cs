using DiffusionSteeringLens.Decoding;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Kandinsky;
using DiffusionSteeringLens.Models.Vit;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Runtime;
using TorchSharp;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>
/// <c>dsl perf OP</c>: times one operation and prints one JSON line (median/min/max ms over iterations after warm-up).
/// Model operations report their matmul GFLOP count and the ratio to the GEMM floor — that GFLOP count divided by the
/// rate an N×N matmul reaches in the same process — so a number can be judged on any machine.
/// </summary>
internal static class PerfCommand
{
    private static readonly string[] Ops =
        { "gemm", "encoder-forward", "encoder-cache-all", "dsl-all-heads", "unet-step", "movq-decode", "decode", "load" };

    public static Command Create(CliHost host)
    {
        var op = new Argument<string>("op") { Description = string.Join(", ", Ops) };
        var encoder = new Option<string?>("--encoder") { Description = "Encoder folder (default: the shipped model).", HelpName = "DIR" };
        var decoder = new Option<string?>("--decoder") { Description = "Decoder folder (default: the shipped decoder).", HelpName = "DIR" };
        var batch = new Option<int>("--batch") { Description = "Images per call.", DefaultValueFactory = _ => 1 };
        var iterations = new Option<int>("--iterations") { Description = "Timed iterations.", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed iterations first.", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { Description = "libtorch CPU threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var dtype = new Option<string>("--dtype") { Description = "float32, bfloat16 or float16.", DefaultValueFactory = _ => "float32" };
        var size = new Option<int?>("--size") { Description = "gemm: the matrix side N (default 2048); decode/movq: picture side (default: the model's).", HelpName = "N" };
        var steps = new Option<int>("--steps") { Description = "decode: denoising steps.", DefaultValueFactory = _ => 25 };
        var verbose = new Option<bool>("--verbose") { Description = "Stack traces of internal errors." };
        var command = new Command("perf", "Time one operation; print one JSON line with its median time and, for model operations, the ratio to the GEMM floor.")
            { op, encoder, decoder, batch, iterations, warmup, threads, dtype, size, steps, verbose };
        command.SetAction((r, ct) => CommandRunner.Guard(host, r.GetValue(verbose), () =>
        {
            var name = r.GetValue(op)!;
            if (!Ops.Contains(name)) throw new CliUsageException($"unknown perf op '{name}'; use one of: {string.Join(", ", Ops)}.");
            var settings = new PerfSettings(r.GetValue(encoder), r.GetValue(decoder), Positive(r.GetValue(batch), "--batch"),
                Positive(r.GetValue(iterations), "--iterations"), NonNegative(r.GetValue(warmup), "--warmup"),
                Positive(r.GetValue(threads), "--threads"), ParseDType(r.GetValue(dtype)!), r.GetValue(size), Positive(r.GetValue(steps), "--steps"));
            if (settings.Size is < 1) throw new CliUsageException($"--size must be at least 1 (got {settings.Size}).");
            torch.set_num_threads(settings.Threads);
            var result = Run(name, settings, host, ct);
            host.Out.WriteLine(JsonSerializer.Serialize(result));
            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    private sealed record PerfSettings(string? Encoder, string? Decoder, int Batch, int Iterations, int Warmup, int Threads,
        torch.ScalarType DType, int? Size, int Steps);

    // The smallest cosine, over the batch, between this model's image embeddings and a float32 copy's.
    private static double CosineToFloat32(ClipVisionModelWithProjection vit, string model, torch.Tensor pixels)
    {
        using var reference = ClipVisionModelWithProjection.FromPretrained(model, new ModelLoadOptions { DType = torch.ScalarType.Float32 });
        using var scope = torch.NewDisposeScope();
        var e32 = reference.Forward(pixels).to(torch.ScalarType.Float64);
        var e = vit.Forward(pixels).to(torch.ScalarType.Float64);
        return torch.nn.functional.cosine_similarity(e, e32, dim: 1).min().item<double>();
    }

    private static Dictionary<string, object?> Run(string op, PerfSettings s, CliHost host, CancellationToken ct)
    {
        var result = new Dictionary<string, object?>
        {
            ["op"] = op, ["batch"] = s.Batch, ["threads"] = s.Threads, ["dtype"] = s.DType.ToString().ToLowerInvariant(),
            // Whether freed native memory is kept for reuse (the tool turns it on at start-up: TorchNativeLoader.EnableMemoryReuse).
            ["memory_reuse"] = TorchNativeLoader.MemoryReuseEnabled,
        };
        var load = new ModelLoadOptions { DType = s.DType };
        if (op == "gemm")
        {
            int n = s.Size ?? 2048;
            var (times, gflops) = Gemm(n, s, ct);
            Add(result, times, s);
            result["size"] = n;
            result["gflops"] = Math.Round(gflops, 1);
            return result;
        }
        if (op == "load")
        {
            var (model, _) = ModelFolders.ResolveEncoder(s.Encoder, host);
            using (var warm = torch.ones(1)) { } // the native runtime is loaded before the baseline is read
            double before = ProcStatusMb("VmRSS");
            var clock = Stopwatch.StartNew();
            using var vit = ClipVisionModelWithProjection.FromPretrained(model, load);
            long bytes = vit.parameters().Sum(p => p.numel() * p.element_size());
            result["load_ms"] = Math.Round(clock.Elapsed.TotalMilliseconds, 1);
            result["weights_mb"] = Math.Round(bytes / 1048576.0, 1);
            double peak = ProcStatusMb("VmHWM");
            result["peak_rss_mb"] = peak;
            // What loading itself added on top of the process before it, per MB of weights (the target is ≤ 1.25).
            result["rss_before_mb"] = before;
            result["load_rss_ratio"] = Math.Round((peak - before) / (bytes / 1048576.0), 2);
            return result;
        }
        // The floor: the GEMM rate of this process, measured right before the operation.
        var (_, floorGflops) = Gemm(2048, s with { Iterations = 3, Warmup = 1 }, ct);
        result["gemm_gflops"] = Math.Round(floorGflops, 1);
        if (op is "encoder-forward" or "encoder-cache-all" or "dsl-all-heads")
        {
            var (model, _) = ModelFolders.ResolveEncoder(s.Encoder, host);
            using var vit = ClipVisionModelWithProjection.FromPretrained(model, load);
            var a = vit.Architecture;
            using var pixels = torch.randn(s.Batch, 3, a.ImageSize, a.ImageSize);
            double gflop = EncoderGflop(a, s.Batch);
            Action body = op switch
            {
                "encoder-forward" => () => { using var e = vit.Forward(pixels); },
                "encoder-cache-all" => () => { using var run = vit.RunWithCache(pixels, CacheRequest.All); },
                _ => AllHeads(vit, pixels, ct),
            };
            var times = Time(body, s, ct);
            Add(result, times, s);
            result["gflop"] = Math.Round(gflop, 3);
            result["floor_ratio"] = Math.Round(Median(times) / 1000 / (gflop / floorGflops), 2);
            // A reduced-precision run also says how far its image embeddings are from float32's on the same pixels
            // (after the timing, so the float32 copy does not share the machine with it).
            if (op == "encoder-forward" && s.DType != torch.ScalarType.Float32)
                result["cosine_vs_float32_min"] = Math.Round(CosineToFloat32(vit, model, pixels), 6);
            return result;
        }
        var decoderFolder = s.Decoder ?? ModelFolders.ResolveDecoder(null, encoderIsShipped: s.Encoder is null, host)
            ?? throw new CliUsageException("no decoder: pass --decoder DIR (a diffusers Kandinsky 2.2 decoder folder).");
        using var decoder = KandinskyV22Decoder.FromPretrained(decoderFolder, load);
        // Default picture side: Kandinsky 2.2's 512 px with a latent decoder (MoVQ), the shipped pixel-space model's 32 px without.
        int side = s.Size ?? (decoder.LatentDecoder.ScaleFactor > 1 ? 512 : 32);
        var (h, w) = decoder.LatentSize(side, side);
        using var cond = torch.randn(2 * s.Batch, decoder.EmbeddingDim, dtype: s.DType);
        using var latents = torch.randn(2 * s.Batch, decoder.Unet.InChannels, h, w, dtype: s.DType);
        Action work = op switch
        {
            "unet-step" => () => { using var t = torch.tensor(500L); using var y = decoder.Unet.Predict(latents, t, cond); },
            "movq-decode" => () => { using var half = latents.narrow(0, 0, s.Batch); using var y = decoder.LatentDecoder.Decode(half); },
            "decode" => () =>
            {
                using var pos = cond.narrow(0, 0, s.Batch);
                using var neg = cond.narrow(0, s.Batch, 1);
                using var y = decoder.Decode(pos, neg, new KandinskyDecodeOptions { NumInferenceSteps = s.Steps, Height = side, Width = side }, cancellationToken: ct);
            },
            _ => throw new CliUsageException($"unknown perf op '{op}'."),
        };
        var stepTimes = Time(work, s, ct);
        Add(result, stepTimes, s);
        result["size"] = side;
        // UNet and MoVQ: FLOPs counted on one more (untimed) run from the layers that ran at this latent size.
        if (op != "decode" && (op == "unet-step" ? (object)decoder.Unet : decoder.LatentDecoder) is torch.nn.Module counted)
        {
            double gflop = MatmulFlopCounter.Gflop(counted, () => { using var scope = torch.NewDisposeScope(); using var _ = torch.no_grad(); work(); });
            result["gflop"] = Math.Round(gflop, 3);
            result["floor_ratio"] = Math.Round(Median(stepTimes) / 1000 / (gflop / floorGflops), 2);
        }
        if (op == "decode") result["steps"] = s.Steps;
        return result;
    }

    private static Action AllHeads(IHookedVit vit, torch.Tensor pixels, CancellationToken ct)
    {
        var lens = new SteeringLens(vit);
        var heads = LensTarget.AllHeads(vit.Architecture).Cast<LensTarget>().ToArray();
        return () => { using var e = lens.ComputeEmbeddings(pixels, heads, null, ct); };
    }

    /// <summary>Matmul FLOPs of one encoder forward (2 per multiply-add): patch embedding, q/k/v/out, scores, mix, MLP, projection.</summary>
    internal static double EncoderGflop(VitArchitecture a, int batch)
    {
        double t = a.NumTokens, d = a.ModelDim, m = a.MlpDim;
        double patches = t - 1, patchArea = (double)a.ImageSize * a.ImageSize / patches;
        double embed = 2 * patches * 3 * patchArea * d;
        double layer = 2 * (4 * t * d * d + 2 * t * t * d + 2 * t * d * m);
        double projection = 2 * d * a.OutputDim;
        return batch * (embed + a.NumLayers * layer + projection) / 1e9;
    }

    private static (List<double> Times, double Gflops) Gemm(int n, PerfSettings s, CancellationToken ct)
    {
        using var a = torch.randn(n, n).to(s.DType);
        using var b = torch.randn(n, n).to(s.DType);
        var times = Time(() => { using var c = torch.mm(a, b); }, s, ct);
        return (times, 2.0 * n * n * n / (Median(times) / 1000) / 1e9);
    }

    private static List<double> Time(Action body, PerfSettings s, CancellationToken ct)
    {
        for (int i = 0; i < s.Warmup; i++) { ct.ThrowIfCancellationRequested(); Run(body); }
        var times = new List<double>();
        for (int i = 0; i < s.Iterations; i++)
        {
            ct.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            Run(body);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return times;

        static void Run(Action body)
        {
            using var scope = torch.NewDisposeScope();
            using var _ = torch.no_grad();
            body();
        }
    }

    private static void Add(Dictionary<string, object?> result, List<double> times, PerfSettings s)
    {
        result["median_ms"] = Math.Round(Median(times), 3);
        result["min_ms"] = Math.Round(times.Min(), 3);
        result["max_ms"] = Math.Round(times.Max(), 3);
        result["iterations"] = s.Iterations;
    }

    private static double Median(List<double> v)
    {
        var sorted = v.OrderBy(x => x).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>A memory line of /proc/self/status in MB (VmHWM: peak resident set; VmRSS: current) on Linux; the current working set elsewhere.</summary>
    private static double ProcStatusMb(string key)
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
            foreach (var line in File.ReadLines(status))
                if (line.StartsWith(key + ":", StringComparison.Ordinal))
                    return Math.Round(double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024, 1);
        return Math.Round(Environment.WorkingSet / 1048576.0, 1);
    }

    private static int Positive(int v, string name) => v >= 1 ? v : throw new CliUsageException($"{name} must be at least 1 (got {v}).");

    private static int NonNegative(int v, string name) => v >= 0 ? v : throw new CliUsageException($"{name} must be at least 0 (got {v}).");

    private static torch.ScalarType ParseDType(string text) => text.ToLowerInvariant() switch
    {
        "float32" or "fp32" => torch.ScalarType.Float32,
        "bfloat16" or "bf16" => torch.ScalarType.BFloat16,
        "float16" or "fp16" => torch.ScalarType.Float16,
        _ => throw new CliUsageException($"--dtype must be float32, bfloat16 or float16 (got '{text}')."),
    };
}
