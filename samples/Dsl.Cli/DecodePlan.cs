using System.Globalization;
using DiffusionSteeringLens.Models.Kandinsky.MoVq;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Models.Kandinsky.Schedulers;
using TorchSharp;

namespace DiffusionSteeringLens.Cli;

/// <summary>
/// What a decoder folder's configs say about a requested picture size, read before any weights are loaded: whether the
/// UNet can take the size, and an estimate of the memory one decode batch needs, so a bad <c>--size</c> or
/// <c>--batch-size</c> fails in a second with one line instead of deep inside libtorch (or by the OOM killer).
/// </summary>
internal sealed class DecodePlan
{
    private readonly string _schedulerFolder;
    private readonly UNet2DConditionConfig _unet;
    private readonly VqModelConfig? _movq;

    private DecodePlan(string schedulerFolder, UNet2DConditionConfig unet, VqModelConfig? movq)
    {
        _schedulerFolder = schedulerFolder;
        _unet = unet;
        _movq = movq;
    }

    /// <summary>Reads <c>unet/config.json</c> and, when present, <c>movq/config.json</c>.</summary>
    public static DecodePlan Read(string decoderFolder)
    {
        var unet = UNet2DConditionConfig.Load(Path.Combine(decoderFolder, "unet"));
        var movqFolder = Path.Combine(decoderFolder, "movq");
        return new DecodePlan(Path.Combine(decoderFolder, "scheduler"), unet, Directory.Exists(movqFolder) ? VqModelConfig.Load(movqFolder) : null);
    }

    /// <summary>
    /// Refuses a step count the scheduler cannot lay out: more steps than training timesteps, or a grid whose offset
    /// pushes the first timestep past the last trained one (e.g. 1000 "leading" steps with steps_offset 1).
    /// </summary>
    /// <exception cref="CliUsageException">The grid does not fit.</exception>
    public void CheckSteps(int steps)
    {
        using var scheduler = DdpmScheduler.FromPretrained(_schedulerFolder);
        int trained = scheduler.Config.NumTrainTimesteps;
        try { scheduler.SetTimesteps(steps); }
        catch (ArgumentOutOfRangeException)
        {
            throw new CliUsageException($"--steps {steps}: this decoder's scheduler was trained with {trained} timesteps; use 1..{trained} steps.");
        }
        var outside = scheduler.Timesteps.Where(t => t < 0 || t >= trained).ToArray();
        if (outside.Length > 0)
            throw new CliUsageException(
                $"--steps {steps}: the scheduler's '{scheduler.Config.TimestepSpacing}' grid (steps_offset {scheduler.Config.StepsOffset}) reaches timestep {outside[0]}, outside the trained 0..{trained - 1}; use fewer steps.");
    }

    /// <summary>Image pixels per latent pixel (1 for a pixel-space decoder).</summary>
    public int ScaleFactor => _movq?.ScaleFactor ?? 1;

    /// <summary>Latent side for a picture side: rounded up to a multiple of sf², divided by sf (as the decoder's LatentSize does).</summary>
    public long LatentSide(long size)
    {
        long sf = ScaleFactor;
        return (size + sf * sf - 1) / (sf * sf) * sf;
    }

    /// <summary>Refuses a size whose latent the UNet cannot halve the whole way down.</summary>
    /// <exception cref="CliUsageException">The size does not fit the UNet's spatial multiple.</exception>
    public void CheckSize(int size)
    {
        long latent = LatentSide(size);
        int multiple = _unet.SpatialMultiple;
        if (latent % multiple == 0) return;
        long step = (long)multiple * ScaleFactor;
        long below = size / step * step, above = below + step;
        var suggestion = below >= 8 ? $"{below} or {above}" : $"{above}";
        throw new CliUsageException(ScaleFactor == 1
            ? $"--size {size}: this decoder's UNet halves the picture {_unet.BlockOutChannels.Length - 1} times, so the size must be a multiple of {multiple} (e.g. {suggestion})."
            : $"--size {size}: the {latent}-pixel latent must be a multiple of {multiple} for this decoder's UNet (e.g. --size {suggestion}).");
    }

    /// <summary>
    /// Estimated peak bytes of one decode batch: the larger of a UNet evaluation (skip tensors kept for the up path, a
    /// working set of six of its largest activations, the largest attention's float32 scores and probabilities) and the
    /// MoVQ decoding (working set at full resolution, its mid-block attention). Weights are already counted by the OS.
    /// </summary>
    public double EstimateBytes(int size, int batchSize, bool guided, torch.ScalarType dtype)
    {
        double bytes = dtype == torch.ScalarType.Float32 ? 4 : 2;
        double s = LatentSide(size);
        var channels = _unet.BlockOutChannels;
        int n = channels.Length;
        double skips = channels[0] * s * s, largest = 0, attention = 0;
        for (int i = 0; i < n; i++)
        {
            double side = s / (1 << i), area = side * side;
            skips += _unet.LayersPerBlock[i] * channels[i] * area;
            if (i < n - 1) skips += channels[i] * area / 4;
            // Up blocks concatenate a skip tensor onto their input: up to twice the level's channels.
            largest = Math.Max(largest, 2.0 * channels[i] * area);
            bool attends = _unet.DownBlockTypes[i].Contains("Attn", StringComparison.Ordinal) || i == n - 1;
            if (attends)
            {
                double heads = Math.Max(1, channels[i] / _unet.AttentionHeadDim[i]);
                attention = Math.Max(attention, 2 * heads * area * (area + _unet.NumImageTextEmbeds));
            }
        }
        double unetBatch = batchSize * (guided ? 2.0 : 1.0);
        double unet = unetBatch * ((skips + 6 * largest) * bytes + attention * 4);

        double movq = 0;
        if (_movq is not null)
        {
            double full = s * _movq.ScaleFactor, widest = 0;
            var movqChannels = _movq.BlockOutChannels;
            for (int i = 0; i < movqChannels.Count; i++)
            {
                double side = full / (1 << i);
                widest = Math.Max(widest, movqChannels[i] * side * side);
            }
            double midAttention = _movq.MidBlockAddAttention ? 2 * Math.Pow(s * s, 2) : 0;
            movq = batchSize * (6 * widest * bytes + midAttention * 4);
        }
        return Math.Max(unet, movq);
    }

    /// <summary>Refuses a size/batch whose estimated decode memory exceeds what the machine has available.</summary>
    /// <exception cref="CliUsageException">The estimate exceeds the available memory.</exception>
    public void CheckMemory(int size, int batchSize, bool guided, torch.ScalarType dtype, long availableBytes)
    {
        double need = EstimateBytes(size, batchSize, guided, dtype);
        if (need <= availableBytes) return;
        throw new CliUsageException(string.Create(CultureInfo.InvariantCulture,
            $"--size {size} with --batch-size {batchSize}{(guided ? " (guidance doubles the UNet batch)" : "")}: a decode needs an estimated {Gib(need)} of memory, " +
            $"but {Gib(availableBytes)} is available; lower --size or --batch-size."));
    }

    private static string Gib(double bytes) =>
        bytes >= 1L << 40 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1L << 40):0.#} TiB")
        : bytes >= 1L << 30 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1L << 30):0.0} GiB")
        : string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(bytes / (1L << 20)):0} MiB");
}
