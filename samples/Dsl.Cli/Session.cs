using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Runtime;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace DiffusionSteeringLens.Cli;

/// <summary>Everything a command works with: the loaded encoder, its processor, the prepared input and (optionally) decoding.</summary>
internal sealed class Session : IDisposable
{
    private readonly List<IDisposable> _owned = new();

    private Session(RunSettings settings, CliHost host, ILoggerFactory loggerFactory)
    {
        Settings = settings;
        Host = host;
        LoggerFactory = loggerFactory;
    }

    public RunSettings Settings { get; }
    public CliHost Host { get; }
    public ILoggerFactory LoggerFactory { get; }
    public IHookedVit Encoder { get; private set; } = null!;
    public ClipImageProcessor Processor { get; private set; } = null!;
    public string EncoderPath { get; private set; } = "";
    public PreparedInput Input { get; private set; } = null!;
    public string InputDescription { get; private set; } = "";
    public PictureSweep? Pictures { get; private set; }
    public string? DecoderDescription { get; private set; }
    public string? DecodeSettings { get; private set; }

    /// <summary>Whether the input is the built-in image (no --image/--pixels).</summary>
    public bool BuiltInInput => Settings.Image is null && Settings.Pixels is null;

    /// <summary>The input picture (first of the batch) as RGB uint8 [S, S, 3].</summary>
    public torch.Tensor BaseRgb { get; private set; } = null!;

    /// <summary>Loads the encoder and input and, when <paramref name="decode"/> and a decoder is available, the decoder.</summary>
    public static Session Open(RunSettings s, CliHost host, bool decode, ProgressDisplay display)
    {
        var session = new Session(s, host, CliLogging.Create(host, s.Verbose));
        try
        {
            session.Load(decode, display);
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private void Load(bool decode, ProgressDisplay display)
    {
        var s = Settings;
        torch.set_num_threads(s.Threads);
        var (modelFolder, processorFolder) = ModelFolders.ResolveEncoder(s.Encoder, Host);
        EncoderPath = s.Encoder is null ? ModelFolders.ShippedModel + "/encoder" : Path.GetFullPath(modelFolder);
        var loadOptions = new ModelLoadOptions { Device = s.Device, DType = s.DType, LoggerFactory = LoggerFactory };
        // The family (CLIP vision, ViT, DINOv2) comes from config.json; DINOv2 runs at its processor's crop size.
        var family = HookedVitFamilies.Detect(modelFolder);
        var givenProcessor = processorFolder is null ? null : ClipImageProcessorConfig.Load(processorFolder);
        int? inputSize = givenProcessor is { DoCenterCrop: true } p ? p.CropHeight : null;
        Encoder = HookedVitFamilies.FromPretrained(modelFolder, loadOptions, family == HookedVitFamilies.Dinov2 ? inputSize : null);
        _owned.Add(Encoder);
        var arch = Encoder.Architecture;
        Processor = new ClipImageProcessor(givenProcessor ?? ClipImageProcessorConfig.ForFamily(family, arch.ImageSize));
        display.Log($"encoder {EncoderPath}: {arch.Family}, {arch.NumLayers} layers × {arch.NumHeads} heads, {arch.ImageSize}px, P={arch.OutputDim}");

        Input = LoadInput(s, arch.ImageSize);
        _owned.Add(Input);
        using (var first = Input.Pictures.select(0, 0))
            BaseRgb = ImageIO.ToUint8Hwc(first);
        _owned.Add(BaseRgb);
        if (decode && !s.NoDecode) LoadDecoder(loadOptions, display);
        if (Pictures is null) display.Log("no decoder: embedding-space scores only");
    }

    private PreparedInput LoadInput(RunSettings s, int imageSize)
    {
        if (s.Pixels is not null)
        {
            using var file = SafetensorsFile.Open(s.Pixels);
            if (!file.Contains("pixel_values"))
                throw new CliUsageException($"{s.Pixels} has no tensor named pixel_values (it has: {string.Join(", ", file.Names.Take(8))}).");
            using var pixels = file.Load("pixel_values", torch.ScalarType.Float32);
            if (pixels.ndim != 4 || pixels.shape[1] != 3 || pixels.shape[2] != imageSize || pixels.shape[3] != imageSize)
                throw new CliUsageException($"pixel_values in {s.Pixels} is [{string.Join(", ", pixels.shape)}]; the encoder needs [B, 3, {imageSize}, {imageSize}].");
            InputDescription = Path.GetFullPath(s.Pixels) + $" (pixel_values, {pixels.shape[0]} image(s))";
            using var onDevice = pixels.to(Encoder.DType, Encoder.Device);
            return PreparedInput.FromPixels(onDevice, Processor.Config);
        }
        torch.Tensor rgb;
        if (s.Image is not null)
        {
            rgb = ImageIO.LoadRgb(s.Image);
            InputDescription = Path.GetFullPath(s.Image);
        }
        else (rgb, InputDescription) = BuiltInImages.Base(imageSize);
        using var _ = rgb;
        var prepared = PreparedInput.FromRgb(Processor, new[] { rgb });
        if (prepared.Pixels.dtype == Encoder.DType && prepared.Pixels.device == Encoder.Device) return prepared;
        using (prepared)
            return new PreparedInput(prepared.Pixels.to(Encoder.DType, Encoder.Device), prepared.Pictures.clone());
    }

    private void LoadDecoder(ModelLoadOptions loadOptions, ProgressDisplay display)
    {
        var s = Settings;
        Func<long, EmbeddingRenderer>? rendererForSeed = null;
        if (Host.RendererOverride is { } over)
        {
            (var renderer, DecoderDescription) = over(Encoder);
            rendererForSeed = _ => renderer;
        }
        else
        {
            var folder = ModelFolders.ResolveDecoder(s.Decoder, s.Encoder, Host);
            if (folder is null) return;
            int size = s.Size ?? Encoder.Architecture.ImageSize;
            // From the configs alone, before any decoder weights are read or pictures allocated.
            var plan = DecodePlan.Read(folder);
            plan.CheckSize(size);
            plan.CheckSteps(s.Steps);
            plan.CheckMemory(size, s.BatchSize, s.Guidance > 1, s.DType, Host.MemoryProbe());
            var decoder = DecoderSupport.Load(folder, loadOptions, Encoder, size, s, DecoderProgress);
            _owned.Add(decoder.Owner);
            rendererForSeed = decoder.RendererForSeed;
            DecoderDescription = s.Decoder is null && s.Encoder is null ? ModelFolders.ShippedModel + "/decoder" : Path.GetFullPath(folder);
            DecodeSettings = $"steps {s.Steps}, guidance {s.Guidance}, {size}px, seed {s.Seed} (same noise for every picture)"
                + (s.DenoiseBatch > 1 ? $", {s.DenoiseBatch} pictures denoised per batch" : "");
            display.Log($"decoder {DecoderDescription}: {DecodeSettings}");
        }
        _rendererForSeed = rendererForSeed;
        Pictures = Sweep(Path.Combine(s.Out, "pictures"), s.Seed);
    }

    private Func<long, EmbeddingRenderer>? _rendererForSeed;

    private PictureSweep Sweep(string folder, long seed)
    {
        var s = Settings;
        // A batched picture's bits depend on its batch, so batched and single pictures never stand in for each other on
        // --resume; the single (default) key is unchanged, so older runs' pictures still resume.
        var key = $"decoder={DecoderDescription};steps={s.Steps};guidance={s.Guidance};size={s.Size};seed={seed};dtype={s.DType}"
            + (s.DenoiseBatch > 1 ? $";denoise-batch={s.DenoiseBatch}" : "");
        return new PictureSweep(folder, _rendererForSeed!(seed), key, s.BatchSize, s.Resume, LoggerFactory.CreateLogger<PictureSweep>());
    }

    /// <summary>
    /// A picture sweep decoding with another decoder seed (same decoder and settings), stored under
    /// <c>pictures/seed-N</c>; null when the session does not decode.
    /// </summary>
    public PictureSweep? PicturesForSeed(long seed) =>
        _rendererForSeed is null ? null : Sweep(Path.Combine(Settings.Out, "pictures", $"seed-{seed}"), seed);

    /// <summary>A study context over this session's encoder, input and decoding.</summary>
    public StudyContext Context(IProgress<LensProgress>? progress)
    {
        DecoderProgress.Target = progress;
        return new(Encoder, Input, Pictures, null, progress);
    }

    /// <summary>Receives the decoder's per-step progress (routed to the current run's display).</summary>
    public ProgressRelay DecoderProgress { get; } = new();

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
        LoggerFactory.Dispose();
    }
}
