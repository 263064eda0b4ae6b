using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// Logit Lens for an image encoder: read out residual sites (or submodule outputs) into the output space, then score them
/// against a user-supplied label-embedding matrix (e.g. CLIP text embeddings of class names, or a classifier head's rows).
/// </summary>
public sealed class LogitLens : ILens, IDisposable
{
    private readonly DiffusionLens _readout;
    private readonly torch.Tensor _labels;

    /// <summary>Creates the lens.</summary>
    /// <param name="encoder">The encoder.</param>
    /// <param name="labelEmbeddings">[K, P] label matrix in the encoder's output space (copied; the lens owns the copy, so
    /// dispose the lens).</param>
    /// <param name="labels">K label names.</param>
    /// <param name="cosine">Score by cosine similarity (CLIP-style); false uses raw dot products (classifier logits).</param>
    /// <exception cref="ArgumentException">Shape or count mismatch; the message gives both.</exception>
    public LogitLens(IHookedVit encoder, torch.Tensor labelEmbeddings, IReadOnlyList<string> labels, bool cosine = true)
    {
        Encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        var p = encoder.Architecture.OutputDim;
        if (labelEmbeddings.ndim != 2 || labelEmbeddings.shape[1] != p)
            throw new ArgumentException($"label embeddings must be [K, {p}]; got [{string.Join(", ", labelEmbeddings.shape)}].", nameof(labelEmbeddings));
        if (labels.Count != labelEmbeddings.shape[0])
            throw new ArgumentException($"{labels.Count} label names for {labelEmbeddings.shape[0]} label embeddings.", nameof(labels));
        Labels = labels.ToArray();
        Cosine = cosine;
        _readout = new DiffusionLens(encoder);
        using var copy = labelEmbeddings.detach().to(encoder.DType, encoder.Device);
        _labels = cosine ? torch.nn.functional.normalize(copy, dim: -1) : copy.clone();
    }

    /// <inheritdoc />
    public string Name => "LogitLens";

    /// <summary>Releases the lens's copy of the label matrix (the encoder stays the caller's).</summary>
    public void Dispose() => _labels.Dispose();

    /// <inheritdoc />
    public IHookedVit Encoder { get; }

    /// <summary>Label names.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Cosine (true) or dot-product (false) scoring.</summary>
    public bool Cosine { get; }

    /// <inheritdoc />
    public torch.Tensor ComputeEmbeddings(torch.Tensor pixelValues, IReadOnlyList<LensTarget> targets,
        IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default) =>
        _readout.ComputeEmbeddings(pixelValues, targets, progress, cancellationToken);

    /// <summary>Scores [B, N, K] of every target's read-out against every label.</summary>
    public torch.Tensor Logits(torch.Tensor pixelValues, IReadOnlyList<LensTarget> targets, CancellationToken cancellationToken = default)
    {
        using var scope = torch.NewDisposeScope();
        var e = ComputeEmbeddings(pixelValues, targets, null, cancellationToken);
        if (Cosine) e = torch.nn.functional.normalize(e, dim: -1);
        return torch.matmul(e, _labels.t()).MoveToOuterDisposeScope();
    }

    /// <summary>The top-k labels per image and target.</summary>
    public IReadOnlyList<LogitLensEntry> TopK(torch.Tensor pixelValues, IReadOnlyList<LensTarget> targets, int k, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        k = Math.Min(k, Labels.Count);
        using var logits = Logits(pixelValues, targets, cancellationToken);
        var (values, indices) = logits.to(torch.float32).cpu().topk(k, dim: -1);
        using (values)
        using (indices)
        {
            var v = values.data<float>().ToArray();
            var ix = indices.data<long>().ToArray();
            var list = new List<LogitLensEntry>();
            long b = logits.shape[0], n = logits.shape[1];
            for (int i = 0; i < b; i++)
                for (int t = 0; t < n; t++)
                    for (int r = 0; r < k; r++)
                    {
                        long at = (i * n + t) * k + r;
                        list.Add(new LogitLensEntry(i, targets[t].Label, r + 1, Labels[(int)ix[at]], v[at]));
                    }
            return list;
        }
    }
}

/// <summary>One top-k row of the Logit Lens.</summary>
/// <param name="ImageIndex">Index in the batch.</param>
/// <param name="Target">Target label (e.g. <c>resid_post:3</c>).</param>
/// <param name="Rank">1-based rank.</param>
/// <param name="Label">Label name.</param>
/// <param name="Score">Cosine or logit.</param>
public sealed record LogitLensEntry(int ImageIndex, string Target, int Rank, string Label, double Score);
