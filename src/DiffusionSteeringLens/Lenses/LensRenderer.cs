using DiffusionSteeringLens.Models.Kandinsky;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// Decodes lens embeddings into pictures through an <see cref="IEmbeddingDecoder"/>: batched decoder calls, one seed per
/// input image shared by all its targets (so an image's pictures differ only by the embedding), and results streamed to
/// the caller chunk by chunk as they finish.
/// </summary>
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
    /// <param name="pixelValues">Preprocessed images [B, C, S, S].</param>
    /// <param name="targets">N targets.</param>
    /// <param name="options">Decoder options; image b's pictures all use seed <c>options.Seed + b</c>.</param>
    /// <param name="skip">Returns true for (image, target) pairs already rendered (resume); they are not decoded.</param>
    /// <param name="progress">Progress in decoded pictures.</param>
    /// <param name="cancellationToken">Cancellation, checked between and inside decoder calls.</param>
    public IEnumerable<LensPicture> Render(ILens lens, torch.Tensor pixelValues, IReadOnlyList<LensTarget> targets, DecodeOptions? options = null,
        Func<int, LensTarget, bool>? skip = null, IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lens);
        torch.Tensor embeddings, negative;
        using (var scope = torch.NewDisposeScope())
        {
            embeddings = lens.ComputeEmbeddings(pixelValues, targets, null, cancellationToken).MoveToOuterDisposeScope();
            negative = lens.Encoder.ZeroImageEmbedding().MoveToOuterDisposeScope();
        }
        return RenderAndDispose(embeddings, negative, targets, options, skip, progress, cancellationToken);
    }

    /// <summary>Decodes precomputed embeddings [B, N, P] (N = targets.Count) with a negative embedding [1, P] or [B, P].</summary>
    public IEnumerable<LensPicture> RenderEmbeddings(torch.Tensor embeddings, torch.Tensor negative, IReadOnlyList<LensTarget> targets,
        DecodeOptions? options = null, Func<int, LensTarget, bool>? skip = null, IProgress<LensProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if (embeddings.ndim != 3 || embeddings.shape[1] != targets.Count)
            throw new ArgumentException($"embeddings must be [B, {targets.Count}, P]; got [{string.Join(", ", embeddings.shape)}].", nameof(embeddings));
        return RenderCore(embeddings, negative, targets, options ?? DecodeOptions.Default, skip, progress, cancellationToken);
    }

    private IEnumerable<LensPicture> RenderAndDispose(torch.Tensor embeddings, torch.Tensor negative, IReadOnlyList<LensTarget> targets,
        DecodeOptions? options, Func<int, LensTarget, bool>? skip, IProgress<LensProgress>? progress, CancellationToken ct)
    {
        using (embeddings)
        using (negative)
            foreach (var p in RenderCore(embeddings, negative, targets, options ?? DecodeOptions.Default, skip, progress, ct))
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
        _logger.LogInformation("Rendering {Count} pictures ({Skipped} already done) in chunks of {Batch}", jobs.Count, b * n - jobs.Count, options.BatchSize);
        int done = 0;
        for (int start = 0; start < jobs.Count; start += options.BatchSize)
        {
            ct.ThrowIfCancellationRequested();
            var chunk = jobs.Skip(start).Take(options.BatchSize).ToArray();
            torch.Tensor pictures;
            using (var scope = torch.NewDisposeScope())
            {
                using var rows = torch.tensor(chunk.Select(j => (long)(j.Image * n + j.Target)).ToArray(), device: embeddings.device);
                var flat = embeddings.reshape(b * n, -1).index_select(0, rows);
                var neg = negative.shape[0] == 1 ? negative : negative.index_select(0, torch.tensor(chunk.Select(j => (long)j.Image).ToArray(), device: negative.device));
                var noise = new SeededNoiseSource(chunk.Select(j => options.Seed + j.Image).ToArray());
                pictures = _decoder.Decode(flat, neg, options with { NoiseSource = noise }, null, ct).MoveToOuterDisposeScope();
                noise.Dispose();
            }
            using (pictures)
            {
                for (int k = 0; k < chunk.Length; k++)
                    yield return new LensPicture(chunk[k].Image, targets[chunk[k].Target], pictures[k].clone());
            }
            done += chunk.Length;
            progress?.Report(new LensProgress("decode", done, jobs.Count));
        }
    }
}
