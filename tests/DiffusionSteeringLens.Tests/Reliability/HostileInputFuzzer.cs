using System.Diagnostics;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Kandinsky.MoVq;
using DiffusionSteeringLens.Models.Kandinsky.Schedulers;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Models.Vit.ClipVision;

namespace DiffusionSteeringLens.Tests.Reliability;

/// <summary>One mutated input that ended in something other than success or the documented exception, in time and memory.</summary>
internal sealed record FuzzEscape(int Index, string InputClass, string Operator, string Problem);

/// <summary>Counts of one run of <see cref="HostileInputFuzzer"/>.</summary>
internal sealed class FuzzReport
{
    public int Inputs { get; set; }
    public int Accepted { get; set; }
    public int Refused { get; set; }
    public TimeSpan Slowest { get; set; }
    public long MostAllocated { get; set; }
    public TimeSpan Elapsed { get; set; }
    public List<FuzzEscape> Escapes { get; } = new();

    /// <summary>Inputs per (class, operator).</summary>
    public SortedDictionary<string, int> ByOperator { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Feeds seeded mutations of safetensors files, config files and images to the library's readers, in-process, and checks
/// every outcome: success, or the documented exception (<see cref="CheckpointException"/> family for safetensors and
/// configs, <see cref="ImageDecodeException"/> for images) whose message names the file; within
/// <see cref="TimeLimit"/>; allocating no more than <see cref="AllocationBudget"/> allows for the input's size.
/// </summary>
internal static class HostileInputFuzzer
{
    /// <summary>Per-input time limit.</summary>
    public static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Managed bytes an input of <paramref name="length"/> bytes may make the readers allocate: the image rule (decoded
    /// RGBA + RGB ≤ 1.75 × max(16 MiB, 4096 × file size)) rounded up to 2×, plus 1 MiB for fixed overheads. Configs and
    /// safetensors headers stay far below it; a reader that trusted a declared size would not.
    /// </summary>
    public static long AllocationBudget(long length) =>
        2 * Math.Max(ImageIO.FreeDecodedBytes, length * ImageIO.MaxExpansion) + (1L << 20);

    public static FuzzReport Run(int inputs, int seed, string folder, FuzzCorpus corpus)
    {
        var mutator = new SeededMutator(seed);
        var report = new FuzzReport();
        var total = Stopwatch.StartNew();
        var safetensorsPath = Path.Combine(folder, "fuzz.safetensors");
        var configPath = Path.Combine(folder, "config.json");
        // Warm-up on the unmutated seeds (JIT, native libraries), so the per-input timing measures the readers.
        foreach (var s in corpus.Safetensors) Check("warm-up safetensors", () => ReadSafetensors(s, safetensorsPath), safetensorsPath, typeof(CheckpointException), -1, "seed", s.Length, report);
        foreach (var c in corpus.Configs) Check("warm-up config", () => ReadConfig(c, configPath), configPath, typeof(ConfigException), -1, "seed", c.Length, report);
        foreach (var i in corpus.Pngs.Concat(corpus.Jpegs)) Check("warm-up image", () => DecodeImage(i, "seed image"), "seed image", typeof(ImageDecodeException), -1, "seed", i.Length, report);
        if (report.Escapes.Count > 0) return report;
        report.Accepted = report.Refused = 0;
        report.Slowest = TimeSpan.Zero;
        report.MostAllocated = 0;

        for (int n = 0; n < inputs; n++)
        {
            switch (n % 4)
            {
                case 0:
                {
                    var input = mutator.MutateSafetensors(corpus.Safetensors[mutator.Next(corpus.Safetensors.Count)]);
                    Check("safetensors", () => ReadSafetensors(input, safetensorsPath), safetensorsPath, typeof(CheckpointException), n, mutator.LastOperator, input.Length, report);
                    break;
                }
                case 1:
                {
                    var seedFile = corpus.Configs[mutator.Next(corpus.Configs.Count)];
                    var input = mutator.Next(4) == 0 ? mutator.MutateBytes(seedFile) : mutator.MutateJson(seedFile);
                    Check("config", () => ReadConfig(input, configPath), configPath, typeof(ConfigException), n, mutator.LastOperator, input.Length, report);
                    break;
                }
                case 2:
                {
                    var input = mutator.MutatePng(corpus.Pngs[mutator.Next(corpus.Pngs.Count)]);
                    var label = $"fuzz-input-{n}.png";
                    Check("png", () => DecodeImage(input, label), label, typeof(ImageDecodeException), n, mutator.LastOperator, input.Length, report);
                    break;
                }
                default:
                {
                    var input = mutator.MutateJpeg(corpus.Jpegs[mutator.Next(corpus.Jpegs.Count)]);
                    var label = $"fuzz-input-{n}.jpg";
                    Check("jpeg/webp", () => DecodeImage(input, label), label, typeof(ImageDecodeException), n, mutator.LastOperator, input.Length, report);
                    break;
                }
            }
        }
        report.Elapsed = total.Elapsed;
        return report;
    }

    private static void Check(string inputClass, Action read, string fileName, Type documented, int index, string op, long length,
        FuzzReport report)
    {
        if (index >= 0)
        {
            report.Inputs++;
            var key = $"{inputClass}: {op}";
            report.ByOperator[key] = report.ByOperator.GetValueOrDefault(key) + 1;
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        string? problem = null;
        try
        {
            read();
            report.Accepted++;
        }
        catch (Exception e) when (documented.IsInstanceOfType(e))
        {
            report.Refused++;
            if (!e.Message.StartsWith(fileName + ": ", StringComparison.Ordinal) || e.Message.Length <= fileName.Length + 4)
                problem = $"{e.GetType().Name} does not name the file and the problem: {e.Message}";
        }
        catch (Exception e)
        {
            problem = $"escaped as {e.GetType().FullName}: {e.Message}";
        }
        var elapsed = clock.Elapsed;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (elapsed > report.Slowest) report.Slowest = elapsed;
        if (allocated > report.MostAllocated) report.MostAllocated = allocated;
        if (problem is null && elapsed > TimeLimit) problem = $"took {elapsed.TotalMilliseconds:0} ms (limit {TimeLimit.TotalMilliseconds:0} ms)";
        if (problem is null && allocated > AllocationBudget(length))
            problem = $"allocated {allocated} bytes for a {length}-byte input (budget {AllocationBudget(length)})";
        if (problem is not null) report.Escapes.Add(new FuzzEscape(index, inputClass, op, problem));
    }

    private static void ReadSafetensors(byte[] input, string path)
    {
        File.WriteAllBytes(path, input);
        using var file = SafetensorsFile.Open(path);
        foreach (var info in file.Tensors)
            using (file.Load(info.Name)) { }
    }

    /// <summary>Every config reader on the same file: each must accept it or refuse it with a <see cref="ConfigException"/>.</summary>
    private static void ReadConfig(byte[] input, string path)
    {
        File.WriteAllBytes(path, input);
        var refusals = new List<ConfigException>();
        foreach (var read in new Action[]
                 {
                     () => ClipVisionConfig.Load(path), () => ClipImageProcessorConfig.Load(path), () => UNet2DConditionConfig.Load(path),
                     () => VqModelConfig.Load(path), () => DdpmSchedulerConfig.Load(path),
                 })
        {
            try { read(); }
            catch (ConfigException e) { refusals.Add(e); }
        }
        foreach (var r in refusals)
            if (!r.Message.StartsWith(path + ": ", StringComparison.Ordinal))
                throw new InvalidOperationException($"a config refusal does not name the file: {r.Message}");
        // Report one refusal (all were checked for their type by the catch above); success if any reader accepted it.
        if (refusals.Count == 5) throw refusals[0];
    }

    private static void DecodeImage(byte[] input, string label)
    {
        using var rgb = ImageIO.DecodeRgb(input, label);
    }
}
