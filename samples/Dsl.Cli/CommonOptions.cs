using System.CommandLine;
using DiffusionSteeringLens.Lenses;
using TorchSharp;

namespace DiffusionSteeringLens.Cli;

/// <summary>The options every experiment command shares (a fresh set per command).</summary>
internal sealed class CommonOptions
{
    public Option<string?> Encoder { get; } = new("--encoder") { Description = "HF encoder folder (CLIP vision, ViTForImageClassification or Dinov2Model; detected from config.json), or a Kandinsky prior repo root (image_encoder/, image_processor/). Default: the shipped model.", HelpName = "DIR" };
    public Option<string?> Decoder { get; } = new("--decoder") { Description = "diffusers Kandinsky 2.2 decoder folder (unet/, scheduler/, optional movq/). Default: the shipped decoder with the shipped encoder.", HelpName = "DIR" };
    public Option<bool> NoDecode { get; } = new("--no-decode") { Description = "Embedding-space scores only: never run the decoder." };
    public Option<string?> Image { get; } = new("--image") { Description = "Input image file (PNG, JPEG, …). Default: a built-in drawn shape.", HelpName = "FILE" };
    public Option<string?> Pixels { get; } = new("--pixels") { Description = "Preprocessed input: a safetensors file with tensor pixel_values [B,3,S,S].", HelpName = "FILE" };
    public Option<string> Out { get; } = new("--out") { Description = "Output folder.", DefaultValueFactory = _ => "dsl-output", HelpName = "DIR" };
    public Option<long> Seed { get; } = new("--seed") { Description = "Decoder seed; every picture uses the same noise, so pictures differ only by their embeddings.", DefaultValueFactory = _ => 0, HelpName = "N" };
    public Option<int> Steps { get; } = new("--steps") { Description = "Denoising steps.", DefaultValueFactory = _ => 25 };
    public Option<double> Guidance { get; } = new("--guidance") { Description = "Classifier-free guidance scale (off at ≤ 1).", DefaultValueFactory = _ => 4.0 };
    public Option<int?> Size { get; } = new("--size") { Description = "Decoded picture size in pixels. Default: the encoder's input size.", HelpName = "PX" };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Pictures handed to the decoder per call; results are saved after each call (a picture never depends on it).", DefaultValueFactory = _ => 4 };
    public Option<int> DenoiseBatch { get; } = new("--denoise-batch") { Description = "Pictures denoised together in one UNet batch (within each --batch-size call). 1 (default) denoises every picture alone, so its bits never depend on its neighbours. More trades that for larger batches, which pays only where the hardware gains from them (on a 2-core CPU it did not; see docs/performance.md).", DefaultValueFactory = _ => 1, HelpName = "N" };
    public Option<string> Device { get; } = new("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
    public Option<string> DType { get; } = new("--dtype") { Description = "float32, bfloat16 or float16 (compute dtype).", DefaultValueFactory = _ => "float32" };
    public Option<bool> Verbose { get; } = new("--verbose") { Description = "Log details (and stack traces of internal errors)." };
    public Option<bool> Resume { get; } = new("--resume") { Description = "Skip pictures a previous (interrupted) run already finished." };
    public Option<string> Steer { get; } = new("--steer") { Description = "DSL steering: scale:<alpha>, relative:<lambda> or global:<alpha>; dsl validate also takes auto:relative or auto:global (strength chosen on the calibration images).", DefaultValueFactory = _ => SteeringFunction.Default.ToString()!, HelpName = "FUNC" };
    public Option<int> TopK { get; } = new("--top-k") { Description = "Heads shown in top-k grids/tables (and ablated by the overlay study).", DefaultValueFactory = _ => 8 };
    public Option<int> Threads { get; } = new("--threads") { Description = "CPU threads for libtorch.", DefaultValueFactory = _ => 2 };

    private readonly HashSet<Option> _added = new();

    /// <summary>Adds the options to a command.</summary>
    public void AddTo(Command command, bool steering = true, bool decoding = true)
    {
        var list = new List<Option> { Encoder, Image, Pixels, Out, Device, DType, Verbose, Threads };
        if (decoding) list.AddRange(new Option[] { Decoder, NoDecode, Seed, Steps, Guidance, Size, BatchSize, DenoiseBatch, Resume });
        if (steering)
        {
            TopK.Description = TopKDescription(command.Name);
            list.AddRange(new Option[] { Steer, TopK });
        }
        Add(command, list.ToArray());
    }

    /// <summary>What k is for one command: only the overlay command ablates k heads; the demo's overlay study ablates a quarter of them.</summary>
    internal static string TopKDescription(string command) => command switch
    {
        "overlay" => "k = the number of heads DSL picks on the calibration images and ablates on the evaluation images (compared with every, or 2,000 random, k-head subsets); also the rows of the top-heads grid and table.",
        "demo" => "k = DSL's top heads shown (and decoded, with its bottom 4) in the top-heads grid, log and report table. It does not change the demo's overlay study, which ablates 4 heads on the testbed and a quarter of all heads on other models.",
        _ => "k = the heads shown in the top-heads grid, log and report table (every head is scored and in results.json and the report's layer × head grids).",
    };

    /// <summary>Adds chosen options to a command (the others keep their defaults when binding).</summary>
    public void Add(Command command, params Option[] options)
    {
        foreach (var o in options)
        {
            command.Add(o);
            _added.Add(o);
        }
    }

    // Options a command does not have keep their defaults (GetValue would return default(T) for them).
    private T V<T>(ParseResult r, Option<T> option, T fallback) => _added.Contains(option) ? r.GetValue(option)! : fallback;

    /// <summary>Reads and validates the values.</summary>
    /// <exception cref="CliUsageException">A bad value.</exception>
    public RunSettings Bind(ParseResult r)
    {
        var d = new RunSettings();
        var s = new RunSettings
        {
            Encoder = V(r, Encoder, null),
            Decoder = V(r, Decoder, null),
            NoDecode = V(r, NoDecode, false),
            Image = V(r, Image, null),
            Pixels = V(r, Pixels, null),
            Out = V(r, Out, d.Out) ?? d.Out,
            Seed = V(r, Seed, d.Seed),
            Steps = V(r, Steps, d.Steps),
            Guidance = V(r, Guidance, d.Guidance),
            Size = V(r, Size, d.Size),
            BatchSize = V(r, BatchSize, d.BatchSize),
            DenoiseBatch = V(r, DenoiseBatch, d.DenoiseBatch),
            Device = ParseDevice(V(r, Device, "cpu") ?? "cpu"),
            DType = ParseDType(V(r, DType, "float32") ?? "float32"),
            Verbose = V(r, Verbose, false),
            Resume = V(r, Resume, false),
            Steering = ParseSteering(V(r, Steer, SteeringFunction.Default.ToString()!) ?? SteeringFunction.Default.ToString()!,
                allowAuto: r.CommandResult.Command.Name == "validate"),
            TopK = V(r, TopK, d.TopK),
            Threads = V(r, Threads, d.Threads),
        };
        if (s.Image is not null && s.Pixels is not null) throw new CliUsageException("give either --image or --pixels, not both.");
        RequireFile("--image", "an image", s.Image);
        RequireFile("--pixels", "a pixels", s.Pixels);
        if (_added.Contains(Out) && string.IsNullOrWhiteSpace(s.Out)) throw new CliUsageException("--out must name a folder (got an empty string).");
        if (_added.Contains(Out) && File.Exists(s.Out)) throw new CliUsageException($"--out must be a folder; {Path.GetFullPath(s.Out)} is a file.");
        if (_added.Contains(Out) && FileAbove(s.Out) is { } file)
            throw new CliUsageException($"--out {Path.GetFullPath(s.Out)} cannot be created: {file} is a file, not a folder.");
        if (s.Steps < 1) throw new CliUsageException($"--steps must be at least 1 (got {s.Steps}).");
        if (!double.IsFinite(s.Guidance)) throw new CliUsageException("--guidance must be a finite number.");
        if (s.Size is < 8) throw new CliUsageException($"--size must be at least 8 pixels (got {s.Size}).");
        if (s.BatchSize < 1) throw new CliUsageException($"--batch-size must be at least 1 (got {s.BatchSize}).");
        if (s.DenoiseBatch < 1) throw new CliUsageException($"--denoise-batch must be at least 1 (got {s.DenoiseBatch}).");
        if (s.TopK < 1) throw new CliUsageException($"--top-k must be at least 1 (got {s.TopK}).");
        if (s.Threads < 1) throw new CliUsageException($"--threads must be at least 1 (got {s.Threads}).");
        return s;
    }

    /// <summary>The nearest existing ancestor of <paramref name="folder"/> when it is a file (nothing can be created below it), else null.</summary>
    internal static string? FileAbove(string folder)
    {
        for (var dir = Path.GetDirectoryName(Path.GetFullPath(folder)); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            if (Directory.Exists(dir)) return null;
            if (File.Exists(dir)) return dir;
        }
        return null;
    }

    /// <summary>A named input file must be a file: not empty, not a folder, present.</summary>
    public static void RequireFile(string option, string what, string? path)
    {
        if (path is null) return;
        if (string.IsNullOrWhiteSpace(path)) throw new CliUsageException($"{option} must name a file (got an empty string).");
        if (Directory.Exists(path)) throw new CliUsageException($"{option}: {Path.GetFullPath(path)} is a folder, not {what} file.");
        if (!File.Exists(path)) throw new CliUsageException($"{option} file not found: {Path.GetFullPath(path)}");
    }

    /// <summary>
    /// Parses <c>--steer</c>. With <paramref name="allowAuto"/> (<c>dsl validate</c>), <c>auto:…</c> is accepted and the
    /// default is returned: the command replaces it with the strength it chooses on the calibration images.
    /// </summary>
    public static SteeringFunction ParseSteering(string text, bool allowAuto = false)
    {
        if (allowAuto && text.Trim().StartsWith(Commands.ValidationOptions.AutoPrefix, StringComparison.OrdinalIgnoreCase)) return SteeringFunction.Default;
        try { return SteeringFunction.Parse(text); }
        catch (FormatException e) { throw new CliUsageException("--steer: " + e.Message); }
    }

    public static torch.Device ParseDevice(string text) => text.Trim().ToLowerInvariant() switch
    {
        "cpu" => torch.CPU,
        "cuda" => torch.cuda.is_available() ? torch.CUDA
            : throw new CliUsageException("--device cuda: CUDA is not available (this tool ships the CPU libtorch; install a CUDA backend package to use a GPU)."),
        _ => throw new CliUsageException($"--device must be cpu or cuda (got '{text}')."),
    };

    public static torch.ScalarType ParseDType(string text) => text.Trim().ToLowerInvariant() switch
    {
        "float32" or "fp32" => torch.ScalarType.Float32,
        "bfloat16" or "bf16" => torch.ScalarType.BFloat16,
        "float16" or "fp16" => torch.ScalarType.Float16,
        _ => throw new CliUsageException($"--dtype must be float32, bfloat16 or float16 (got '{text}')."),
    };
}
