using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.Models.Kandinsky;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// Decodes lens embeddings into pictures through an <see cref="IEmbeddingDecoder"/>, streaming each picture to the
/// caller as soon as it is decoded.
/// </summary>
/// <remarks>
/// Seed policy (the library's one rule): every picture of a render uses <see cref="DecodeOptions.Seed"/>, so pictures
/// differ only by their embeddings, and a picture is a function of its embedding, seed and settings alone — not of
/// which other pictures were rendered or skipped in the same call. Each picture is decoded by its own decoder call.
/// Nothing is computed before the returned sequence is enumerated, and everything allocated is released when the
/// enumeration ends or is abandoned (<c>foreach</c> disposes the enumerator).
/// </remarks>
public sealed class LensRenderer
{
    private readonly IEmbeddingDecoder _decoder;
    private readonly ILogger _logger;

    /// <summary>Creates a renderer over a decoder.</summary>
    public LensRenderer(IEmbeddingDecoder decoder, ILogger<LensRenderer>? logger = null)
    {
        _decoder = decoder ?? throw new ArgumentNullException(nameof(decoder));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// Computes the lens embeddings for <paramref name="targets"/> and decodes them. The negative embedding for guidance is
    /// the encoder's zero-image embedding (as Kandinsky's prior builds it).
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
        options = CheckOptions(options);
        return RenderLens(lens, pixelValues, targets, options, skip, progress, cancellationToken);
    }

    /// <summary>Decodes precomputed embeddings [B, N, P] (N = targets.Count) with a negative embedding [1, P] or [B, P].</summary>
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
        if (negative.ndim != 2 || (negative.shape[0] != 1 && negative.shape[0] != embeddings.shape[0]))
            throw new ArgumentException($"negative must be [1, P] or [{embeddings.shape[0]}, P]; got [{string.Join(", ", negative.shape)}].", nameof(negative));
        return RenderCore(embeddings, negative, targets, CheckOptions(options), skip, progress, cancellationToken);
    }

    private static DecodeOptions CheckOptions(DecodeOptions? options)
    {
        options ??= DecodeOptions.Default;
        if (options.Seeds is not null)
            throw new ArgumentException("the lens renderer gives every picture DecodeOptions.Seed; per-picture Seeds are not accepted.", nameof(options));
        options.Validate();
        return options;
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
                var decoded = _decoder.Decode(embedding, neg, options, null, ct);
                // Its own storage, not a view of the [1, 3, H, W] result: the picture is the caller's alone.
                picture = decoded[0].clone().MoveToOuterDisposeScope();
            }
            yield return new LensPicture(image, targets[target], picture);
            done++;
            progress?.Report(new LensProgress("decode", done, jobs.Count));
        }
    }
}
