using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.Models.Kandinsky.MoVq;
using DiffusionSteeringLens.Models.Kandinsky.Schedulers;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Models.Vit;
using DiffusionSteeringLens.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky;

/// <summary>
/// Kandinsky 2.2's decoder (diffusers <c>KandinskyV22Pipeline</c>): DDPM sampling of an image-embedding-conditioned
/// UNet with classifier-free guidance, then the latent decoder (MoVQ) and the map to [0, 1].
/// </summary>
/// <remarks>
/// Not thread-safe: a decode resets the shared scheduler's timestep grid. Use one instance per thread, or serialise calls.
/// </remarks>
public sealed class KandinskyV22Decoder : IEmbeddingDecoder
{
    private readonly bool _ownsComponents;
    private bool _disposed;

    /// <summary>Composes a decoder from its parts.</summary>
    /// <param name="unet">The denoiser.</param>
    /// <param name="scheduler">The DDPM scheduler (its timestep grid is reset by every decode).</param>
    /// <param name="latentDecoder">MoVQ, or <see cref="IdentityLatentDecoder"/> for a pixel-space UNet.</param>
    /// <param name="ownsComponents">Whether <see cref="Dispose"/> disposes the three parts.</param>
    /// <exception cref="ArgumentException">The parts do not fit together (channel counts).</exception>
    public KandinskyV22Decoder(IImageConditionedUNet unet, DdpmScheduler scheduler, ILatentImageDecoder latentDecoder, bool ownsComponents = true)
    {
        ArgumentNullException.ThrowIfNull(unet);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(latentDecoder);
        if (unet.InChannels != latentDecoder.LatentChannels)
            throw new ArgumentException($"the UNet denoises {unet.InChannels} channels but the latent decoder expects {latentDecoder.LatentChannels}.", nameof(latentDecoder));
        if (unet.OutChannels != unet.InChannels && unet.OutChannels != 2 * unet.InChannels)
            throw new ArgumentException($"UNet output channels {unet.OutChannels} are neither {unet.InChannels} (noise) nor {2 * unet.InChannels} (noise + variance).", nameof(unet));
        if (scheduler.HasLearnedVariance && unet.OutChannels != 2 * unet.InChannels)
            throw new ArgumentException($"variance_type '{scheduler.Config.VarianceType}' needs variance channels, but the UNet outputs only {unet.OutChannels}.", nameof(scheduler));
        Unet = unet;
        Scheduler = scheduler;
        LatentDecoder = latentDecoder;
        _ownsComponents = ownsComponents;
    }

    /// <summary>The denoiser.</summary>
    public IImageConditionedUNet Unet { get; }

    /// <summary>The scheduler.</summary>
    public DdpmScheduler Scheduler { get; }

    /// <summary>The latent-to-image decoder.</summary>
    public ILatentImageDecoder LatentDecoder { get; }

    /// <inheritdoc />
    public int EmbeddingDim => Unet.ImageEmbedDim;

    /// <summary>
    /// The unconditional ("negative") image embedding this decoder's classifier-free guidance expects, from any encoder:
    /// its output [1, P] for an all-zeros pixel tensor (zeros after normalisation), as
    /// <c>KandinskyV22PriorPipeline.get_zero_embed</c> builds it. The caller owns the result.
    /// </summary>
    public static Tensor ZeroImageEmbedding(IHookedVit encoder) => KandinskyNegativeEmbedding.ZeroImageEmbedding(encoder);

    /// <summary>
    /// Loads a diffusers-layout decoder folder (e.g. <c>kandinsky-community/kandinsky-2-2-decoder</c>): <c>unet/</c>,
    /// <c>scheduler/</c> and <c>movq/</c>. Without <c>movq/</c> the UNet is taken to work in pixel space and an
    /// <see cref="IdentityLatentDecoder"/> is used — allowed only when the UNet denoises 3 channels.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">A required sub-folder is missing.</exception>
    public static KandinskyV22Decoder FromPretrained(string decoderFolder, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(decoderFolder);
        if (!Directory.Exists(decoderFolder)) throw new DirectoryNotFoundException($"Decoder folder not found: {Path.GetFullPath(decoderFolder)}");
        var schedulerFolder = Path.Combine(decoderFolder, "scheduler");
        if (!Directory.Exists(schedulerFolder)) throw new DirectoryNotFoundException($"Scheduler folder not found: {Path.GetFullPath(schedulerFolder)}");
        var scheduler = DdpmScheduler.FromPretrained(schedulerFolder);
        IImageConditionedUNet? unet = null;
        ILatentImageDecoder? latentDecoder = null;
        try
        {
            unet = UNet2DConditionModel.FromPretrained(Path.Combine(decoderFolder, "unet"), options);
            var movqFolder = Path.Combine(decoderFolder, "movq");
            if (Directory.Exists(movqFolder)) latentDecoder = VqModel.FromPretrained(movqFolder, options);
            else if (unet.InChannels == 3) latentDecoder = new IdentityLatentDecoder(3);
            else
                throw new DirectoryNotFoundException(
                    $"No movq/ folder in {Path.GetFullPath(decoderFolder)}, and the UNet denoises {unet.InChannels} channels, so it is not a pixel-space model.");
            return new KandinskyV22Decoder(unet, scheduler, latentDecoder);
        }
        catch
        {
            latentDecoder?.Dispose();
            unet?.Dispose();
            scheduler.Dispose();
            throw;
        }
    }

    /// <summary>Latent height and width for a requested image size: each side rounded up to a multiple of sf², divided by sf.</summary>
    public (int Height, int Width) LatentSize(int height, int width)
    {
        int sf = LatentDecoder.ScaleFactor;
        static int Up(int x, int sf) => (x + sf * sf - 1) / (sf * sf) * sf;
        return (Up(height, sf), Up(width, sf));
    }

    /// <inheritdoc />
    /// <remarks>
    /// By default every picture is denoised in the same canonical layout — alone, as one classifier-free-guidance pair
    /// [negative, positive] — whatever else the call decodes. libtorch picks kernels and summation orders by tensor
    /// shape, and this fixture-like sampling loop amplifies last-bit differences, so batching pictures together makes a
    /// picture's bits depend on its neighbours. With one fixed layout a picture is a function of its embedding, seed
    /// (<see cref="DecodeOptions.SeedOf"/>) and settings only, on a given machine and thread count.
    /// <see cref="KandinskyDecodeOptions.PicturesPerBatch"/> trades that for speed: consecutive pictures of the call are
    /// then denoised that many at a time.
    /// </remarks>
    public Tensor Decode(Tensor imageEmbeds, Tensor? negativeImageEmbeds, DecodeOptions? options = null,
        IProgress<DecodeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(imageEmbeds);
        var settings = KandinskyDecodeOptions.From(options);
        settings.Validate();
        bool guided = settings.GuidanceScale > 1.0;
        CheckEmbeddings(imageEmbeds, negativeImageEmbeds, guided);
        int total = (int)imageEmbeds.shape[0];
        if (settings.NoiseSource is null && settings.Seeds is not null && settings.Seeds.Count != total)
            throw new ArgumentException($"{nameof(DecodeOptions.Seeds)} holds {settings.Seeds.Count} seeds for {total} embeddings.", nameof(options));
        cancellationToken.ThrowIfCancellationRequested();

        var ownedNoise = settings.NoiseSource is null ? new SeededNoiseSource(settings) : null;
        var noise = settings.NoiseSource ?? ownedNoise!;
        var pictures = new List<Tensor>(total);
        try
        {
            for (int start = 0; start < total; start += settings.PicturesPerBatch)
                pictures.Add(DecodePictures(imageEmbeds, negativeImageEmbeds, start, Math.Min(settings.PicturesPerBatch, total - start), total, guided,
                    settings, noise, progress, cancellationToken));
            var result = pictures.Count == 1 ? pictures[0] : cat(pictures, 0);
            if (pictures.Count == 1) pictures.Clear(); // handed to the caller, not disposed below
            return result;
        }
        finally
        {
            // The per-picture tensors, also when a later picture failed or was cancelled.
            foreach (var p in pictures) p.Dispose();
            ownedNoise?.Dispose();
        }
    }

    /// <summary>Disposes the components when this decoder owns them.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_ownsComponents) return;
        LatentDecoder.Dispose();
        Unet.Dispose();
        Scheduler.Dispose();
    }

    /// <summary>Denoises pictures start … start + count − 1 of the call together (count = 1: the canonical layout).</summary>
    private Tensor DecodePictures(Tensor imageEmbeds, Tensor? negativeImageEmbeds, int start, int count, int total, bool guided,
        KandinskyDecodeOptions options, INoiseSource noise, IProgress<DecodeProgress>? progress, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        var dtype = Unet.DType;
        var device = Unet.Device;
        int channels = Unet.InChannels;
        // A fresh copy, so the rows' memory layout (alignment) is the same whichever rows of the call they came from.
        var positive = imageEmbeds.narrow(0, start, count).to(dtype, device, copy: true);
        Tensor conditioning = positive;
        if (guided)
        {
            var negative = negativeImageEmbeds!.shape[0] == 1
                ? negativeImageEmbeds.expand(count, -1)
                : negativeImageEmbeds.narrow(0, start, count);
            // The reference batches the unconditional half first.
            conditioning = cat(new[] { negative.to(dtype, device), positive }, 0);
        }

        Scheduler.SetTimesteps(options.NumInferenceSteps);
        var timesteps = Scheduler.Timesteps;
        var (h, w) = LatentSize(options.Height, options.Width);
        var shape = new long[] { count, channels, h, w };
        var latents = noise.InitialLatents(start, shape, dtype, device);
        if (Scheduler.InitNoiseSigma != 1.0) latents = latents * Scheduler.InitNoiseSigma;

        for (int i = 0; i < timesteps.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long t = timesteps[i];
            // Per-step intermediates are released at the end of each iteration; only the new latents survive.
            using var stepScope = NewDisposeScope();
            var modelInput = guided ? cat(new[] { latents, latents }, 0) : latents;
            using var timestep = tensor(t);
            var prediction = Unet.Predict(modelInput, timestep, conditioning);
            if (guided)
            {
                var noisePrediction = prediction.narrow(1, 0, channels);
                var uncond = noisePrediction.narrow(0, 0, count);
                var cond = noisePrediction.narrow(0, count, count);
                var guidedNoise = uncond + options.GuidanceScale * (cond - uncond);
                prediction = prediction.shape[1] > channels
                    ? cat(new[] { guidedNoise, prediction.narrow(1, channels, prediction.shape[1] - channels).narrow(0, count, count) }, 1)
                    : guidedNoise;
            }
            // Variance channels reach the scheduler only when it learns the variance.
            if (!Scheduler.HasLearnedVariance && prediction.shape[1] > channels) prediction = prediction.narrow(1, 0, channels);
            var stepNoise = t > 0 ? noise.StepNoise(start, i, shape, dtype, device) : null;
            using var result = Scheduler.Step(prediction, t, latents, stepNoise);
            var next = result.PrevSample.alias().MoveToOuterDisposeScope();
            latents.Dispose();
            latents = next;
            progress?.Report(new DecodeProgress(i + 1, timesteps.Count, t, start, count, total));
        }

        // The latent decoder runs once per picture, not once per step, so batching it saves little; and its feature maps
        // at full resolution are the largest tensors of a decode (128 MiB per picture at 512 px). Four MoVQ pictures in
        // one call measured 42 % slower per picture and about 3 GB larger than one at a time (docs/performance.md, stop 27),
        // so a batch is decoded picture by picture, the same call as for a picture denoised alone.
        var images = new Tensor[count];
        for (int p = 0; p < count; p++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var pictureScope = NewDisposeScope();
            var decoded = LatentDecoder.Decode(latents.narrow(0, p, 1));
            images[p] = (decoded * 0.5 + 0.5).clamp(0.0, 1.0).to(ScalarType.Float32, CPU).MoveToOuterDisposeScope();
        }
        var image = count == 1 ? images[0] : cat(images, 0);
        return image.MoveToOuterDisposeScope();
    }

    private void CheckEmbeddings(Tensor imageEmbeds, Tensor? negativeImageEmbeds, bool guided)
    {
        int p = EmbeddingDim;
        if (imageEmbeds.dim() != 2 || imageEmbeds.shape[1] != p || imageEmbeds.shape[0] < 1)
            throw new EmbeddingShapeException(nameof(imageEmbeds), imageEmbeds.shape, $"[B, {p}] with B ≥ 1");
        if (!guided) return;
        if (negativeImageEmbeds is null)
            throw new ArgumentNullException(nameof(negativeImageEmbeds), "classifier-free guidance (scale > 1) needs negative (unconditional) embeddings.");
        long b = imageEmbeds.shape[0];
        if (negativeImageEmbeds.dim() != 2 || negativeImageEmbeds.shape[1] != p || (negativeImageEmbeds.shape[0] != 1 && negativeImageEmbeds.shape[0] != b))
            throw new EmbeddingShapeException(nameof(negativeImageEmbeds), negativeImageEmbeds.shape, $"[{b}, {p}] or [1, {p}]");
    }
}
