using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.Models.Kandinsky;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// The library's one road from embeddings to pictures: every picture the library, the <c>dsl</c> tool, its demo and the
/// trainer decode goes through an instance of this class over an <see cref="IEmbeddingDecoder"/>. It casts the
/// embeddings to the decoder's dtype and device (<see cref="DType"/>, <see cref="Device"/>), decodes, and returns float32
/// CPU pictures clamped to [0, 1], resized to <see cref="Size"/> when one is set. Three ways to call it:
/// <see cref="Decode"/> / <see cref="DecodeWithSeeds"/> (a batch of embeddings in, a batch of pictures out),
/// <see cref="Render"/> / <see cref="RenderEmbeddings"/> (lens pictures streamed one at a time), and
/// <see cref="RenderSweep"/> (labelled pictures kept in a resumable <see cref="PictureStore"/>).
/// </summary>
/// <remarks>
/// <para><b>Seed policy</b> — the one place it is stated. A picture's noise is a function of its seed alone
/// (<see cref="DecodeOptions.Seed"/>); which seed a picture gets is one of two named choices:</para>
/// <list type="bullet">
/// <item><b>Shared seed</b> (<see cref="Decode"/>, <see cref="Render"/>, <see cref="RenderEmbeddings"/>,
/// <see cref="RenderSweep"/>): every picture uses <see cref="DecodeOptions.Seed"/>, so pictures differ only by their
/// embeddings, and a picture is a function of its embedding, seed and settings alone — not of which other pictures were
/// rendered, skipped or batched with it. That is what makes skipping (resume) and fingerprinting sound, so these methods
/// refuse per-picture <see cref="DecodeOptions.Seeds"/>. The <c>dsl</c> tool and its demo decode this way.</item>
/// <item><b>Explicit per-picture seeds</b> (<see cref="DecodeWithSeeds"/>): picture i uses the i-th of the seeds the
/// caller passes (the trainer's evaluation gives picture i of a call seed 7 + i, so its pictures get distinct noise).</item>
/// </list>
/// <para>The decoder is borrowed (the caller disposes it). Returned tensors and <see cref="LensPicture"/>s belong to the
/// caller; arguments are borrowed. Streams compute nothing before they are enumerated, and everything they allocate is
/// released when the enumeration ends or is abandoned (<c>foreach</c> disposes the enumerator).</para>
/// </remarks>
public sealed partial class LensRenderer
{
    private readonly IEmbeddingDecoder _decoder;
    private readonly ILogger _logger;

    /// <summary>Creates a renderer over a decoder.</summary>
    /// <param name="decoder">The decoder (borrowed).</param>
    /// <param name="logger">Optional logger.</param>
    public LensRenderer(IEmbeddingDecoder decoder, ILogger<LensRenderer>? logger = null)
    {
        _decoder = decoder ?? throw new ArgumentNullException(nameof(decoder));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// Side of the returned pictures; the decoder's output (which it may round up to its granularity) is resized to it
    /// (bilinear with antialiasing). Null keeps the decoder's size.
    /// </summary>
    public int? Size
    {
        get => _size;
        init
        {
            if (value is < 1) throw new ArgumentOutOfRangeException(nameof(Size), value, "must be at least 1.");
            _size = value;
        }
    }

    private readonly int? _size;

    /// <summary>Dtype the embeddings are cast to before decoding (the decoder's compute dtype); null leaves them as given.</summary>
    public torch.ScalarType? DType { get; init; }

    /// <summary>Device the embeddings are moved to before decoding; null leaves them where they are.</summary>
    public torch.Device? Device { get; init; }

    /// <summary>Receives the decoder's per-step progress of every decode; may be null.</summary>
    public IProgress<DecodeProgress>? DecodeProgress { get; init; }

    /// <summary>Decodes a batch of embeddings with the shared seed (<see cref="DecodeOptions.Seed"/> for every picture).</summary>
    /// <param name="embeddings">[N, P] embeddings (borrowed).</param>
    /// <param name="negative">[1, P] or [N, P] unconditional embedding for classifier-free guidance (e.g. the encoder's
    /// zero-image embedding); null for a decoder that does not guide.</param>
    /// <param name="options">Sampling settings; <see cref="DecodeOptions.Seeds"/> must be null. Null uses the defaults.</param>
    /// <param name="cancellationToken">Checked inside the decoder.</param>
    /// <returns>Pictures [N, 3, H, W] in [0, 1], float32 on the CPU (H = W = <see cref="Size"/> when set); the caller owns the tensor.</returns>
    /// <exception cref="ArgumentException">Per-picture seeds, or a negative embedding of the wrong shape.</exception>
    public torch.Tensor Decode(torch.Tensor embeddings, torch.Tensor? negative, DecodeOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        options = CheckSharedSeed(options);
        CheckNegative(negative, embeddings.shape[0]);
        return DecodeCore(embeddings, negative, options, cancellationToken);
    }

    /// <summary>Decodes a batch of embeddings with explicit per-picture seeds: picture i uses <paramref name="seeds"/>[i].</summary>
    /// <param name="embeddings">[N, P] embeddings (borrowed).</param>
    /// <param name="negative">[1, P] or [N, P] unconditional embedding, or null for a decoder that does not guide.</param>
    /// <param name="seeds">One seed per embedding.</param>
    /// <param name="options">Sampling settings; their own <see cref="DecodeOptions.Seeds"/> must be null. Null uses the defaults.</param>
    /// <param name="cancellationToken">Checked inside the decoder.</param>
    /// <returns>Pictures [N, 3, H, W] as for <see cref="Decode"/>; the caller owns the tensor.</returns>
    /// <exception cref="ArgumentException">Not one seed per embedding, seeds in the options too, or a misshaped negative.</exception>
    public torch.Tensor DecodeWithSeeds(torch.Tensor embeddings, torch.Tensor? negative, IReadOnlyList<long> seeds,
        DecodeOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(seeds);
        options ??= DecodeOptions.Default;
        if (options.Seeds is not null)
            throw new ArgumentException("pass the per-picture seeds as the seeds argument, not in DecodeOptions.Seeds.", nameof(options));
        if (embeddings.ndim < 1 || seeds.Count != embeddings.shape[0])
            throw new ArgumentException($"need one seed per embedding: {seeds.Count} seeds for {(embeddings.ndim < 1 ? 0 : embeddings.shape[0])} embeddings.", nameof(seeds));
        options = options with { Seeds = seeds };
        options.Validate();
        CheckNegative(negative, embeddings.shape[0]);
        return DecodeCore(embeddings, negative, options, cancellationToken);
    }

    /// <summary>
    /// Computes the lens embeddings for <paramref name="targets"/> and decodes them with the shared seed, one picture at a
    /// time. The negative embedding for guidance is the encoder's zero-image embedding (as Kandinsky's prior builds it).
    /// </summary>
    /// <param name="lens">The lens.</param>
    /// <param name="pixelValues">Preprocessed images [B, C, S, S]; must stay alive until the enumeration ends.</param>
    /// <param name="targets">N targets.</param>
    /// <param name="options">Decoder options; every picture uses <see cref="DecodeOptions.Seed"/> (per-picture
    /// <see cref="DecodeOptions.Seeds"/> are not accepted here).</param>
    /// <param name="skip">Returns true for (image, target) pairs already rendered (resume); they are not decoded.</param>
    /// <param name="progress">Progress in decoded pictures.</param>
    /// <param name="cancellationToken">Cancellation, checked between and inside decoder calls.</param>
    /// <returns>Pictures in image-major order; each one is owned by the caller.</returns>
    public IEnumerable<LensPicture> Render(ILens lens, torch.Tensor pixelValues, IReadOnlyList<LensTarget> targets, DecodeOptions? options = null,
        Func<int, LensTarget, bool>? skip = null, IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lens);
        ArgumentNullException.ThrowIfNull(pixelValues);
        ArgumentNullException.ThrowIfNull(targets);
        options = CheckSharedSeed(options);
        return RenderLens(lens, pixelValues, targets, options, skip, progress, cancellationToken);
    }

    /// <summary>
    /// Decodes precomputed embeddings [B, N, P] (N = targets.Count) with a negative embedding [1, P] or [B, P] and the
    /// shared seed, one picture at a time.
    /// </summary>
    /// <remarks>The tensors stay owned by the caller and must stay alive until the enumeration ends.</remarks>
    public IEnumerable<LensPicture> RenderEmbeddings(torch.Tensor embeddings, torch.Tensor negative, IReadOnlyList<LensTarget> targets,
        DecodeOptions? options = null, Func<int, LensTarget, bool>? skip = null, IProgress<LensProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(negative);
        ArgumentNullException.ThrowIfNull(targets);
        if (embeddings.ndim != 3 || embeddings.shape[1] != targets.Count)
            throw new ArgumentException($"embeddings must be [B, {targets.Count}, P]; got [{string.Join(", ", embeddings.shape)}].", nameof(embeddings));
        CheckNegative(negative, embeddings.shape[0]);
        return RenderCore(embeddings, negative, targets, CheckSharedSeed(options), skip, progress, cancellationToken);
    }

    private static DecodeOptions CheckSharedSeed(DecodeOptions? options)
    {
        options ??= DecodeOptions.Default;
        if (options.Seeds is not null)
            throw new ArgumentException("this road gives every picture DecodeOptions.Seed (the shared seed); per-picture Seeds are not accepted here — use DecodeWithSeeds.", nameof(options));
        options.Validate();
        return options;
    }

    private void CheckNegative(torch.Tensor? negative, long count)
    {
        if (negative is null) return;
        long p = _decoder.EmbeddingDim;
        if (negative.ndim != 2 || negative.shape[1] != p || (negative.shape[0] != 1 && negative.shape[0] != count))
            throw new ArgumentException(count == 1
                ? $"negative must be [1, {p}]; got [{string.Join(", ", negative.shape)}]."
                : $"negative must be [1, {p}] or [{count}, {p}]; got [{string.Join(", ", negative.shape)}].", nameof(negative));
    }

    /// <summary>
    /// The adapter every road shares: cast to <see cref="DType"/> / <see cref="Device"/>, decode, float32 CPU, resize to
    /// <see cref="Size"/> when the decoder returned another size, clamp to [0, 1].
    /// </summary>
    private torch.Tensor DecodeCore(torch.Tensor embeddings, torch.Tensor? negative, DecodeOptions options, CancellationToken ct)
    {
        using var scope = torch.NewDisposeScope();
        var onDevice = DType is null && Device is null ? embeddings : embeddings.to(DType ?? embeddings.dtype, Device ?? embeddings.device);
        var pictures = _decoder.Decode(onDevice, negative, options, DecodeProgress, ct).to(torch.float32).cpu();
        // The decoder may round the size up to its granularity; pictures are compared at the requested size.
        if (Size is int size && (pictures.shape[2] != size || pictures.shape[3] != size))
            pictures = torch.nn.functional.interpolate(pictures, new long[] { size, size }, mode: torch.InterpolationMode.Bilinear,
                align_corners: false, antialias: true);
        return pictures.clamp(0, 1).MoveToOuterDisposeScope();
    }

    private IEnumerable<LensPicture> RenderLens(ILens lens, torch.Tensor pixelValues, IReadOnlyList<LensTarget> targets,
        DecodeOptions options, Func<int, LensTarget, bool>? skip, IProgress<LensProgress>? progress, CancellationToken ct)
    {
        torch.Tensor embeddings, negative;
        using (var scope = torch.NewDisposeScope())
        {
            embeddings = lens.ComputeEmbeddings(pixelValues, targets, null, ct).MoveToOuterDisposeScope();
            negative = lens.Encoder.ZeroImageEmbedding().MoveToOuterDisposeScope();
        }
        using (embeddings)
        using (negative)
            foreach (var p in RenderCore(embeddings, negative, targets, options, skip, progress, ct))
                yield return p;
    }

    private IEnumerable<LensPicture> RenderCore(torch.Tensor embeddings, torch.Tensor negative, IReadOnlyList<LensTarget> targets,
        DecodeOptions options, Func<int, LensTarget, bool>? skip, IProgress<LensProgress>? progress, CancellationToken ct)
    {
        int b = (int)embeddings.shape[0], n = targets.Count;
        var jobs = new List<(int Image, int Target)>();
        for (int i = 0; i < b; i++)
            for (int t = 0; t < n; t++)
                if (skip is null || !skip(i, targets[t])) jobs.Add((i, t));
        _logger.LogInformation("Rendering {Count} pictures ({Skipped} already done)", jobs.Count, b * n - jobs.Count);
        int done = 0;
        foreach (var (image, target) in jobs)
        {
            ct.ThrowIfCancellationRequested();
            torch.Tensor picture;
            using (var scope = torch.NewDisposeScope())
            {
                var embedding = embeddings[image, target].unsqueeze(0);
                var neg = negative.shape[0] == 1 ? negative : negative[image].unsqueeze(0);
                var decoded = DecodeCore(embedding, neg, options, ct);
                // Its own storage, not a view of the [1, 3, H, W] result: the picture is the caller's alone.
                picture = decoded[0].clone().MoveToOuterDisposeScope();
            }
            yield return new LensPicture(image, targets[target], picture);
            done++;
            progress?.Report(new LensProgress("decode", done, jobs.Count));
        }
    }
}
