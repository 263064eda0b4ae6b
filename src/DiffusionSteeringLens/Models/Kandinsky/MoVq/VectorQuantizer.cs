using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.MoVq;

/// <summary>
/// The VQ codebook: each latent vector is replaced by its nearest code (squared Euclidean distance).
/// </summary>
internal sealed class VectorQuantizer : nn.Module<Tensor, Tensor>
{
    // Rows per distance chunk: the full-size codebook has 16384 codes, so an unchunked [N, 16384] distance matrix
    // for a 64×64 latent would take 256 MiB per image.
    private const long ChunkRows = 1024;

    // Field name is the checkpoint's key segment.
    private readonly Embedding embedding;

    /// <summary>Creates the codebook.</summary>
    /// <param name="numEmbeddings">Number of codes.</param>
    /// <param name="embeddingDim">Width of a code.</param>
    /// <param name="device">Parameter device.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public VectorQuantizer(int numEmbeddings, int embeddingDim, Device device, ScalarType dtype) : base(nameof(VectorQuantizer))
    {
        NumEmbeddings = numEmbeddings;
        EmbeddingDim = embeddingDim;
        embedding = nn.Embedding(numEmbeddings, embeddingDim, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>Number of codes.</summary>
    public int NumEmbeddings { get; }

    /// <summary>Width of a code.</summary>
    public int EmbeddingDim { get; }

    /// <summary>The codebook [NumEmbeddings, EmbeddingDim].</summary>
    public Tensor Codebook => embedding.weight!;

    /// <summary>Quantises and returns only the quantised latent.</summary>
    public override Tensor forward(Tensor latents)
    {
        var (quantized, indices) = Quantize(latents);
        indices.Dispose();
        return quantized;
    }

    /// <summary>Nearest codes of <paramref name="latents"/> [B, D, H, W].</summary>
    /// <returns>
    /// The quantised latent [B, D, H, W] — computed as z + (code − z), the reference's straight-through value — and
    /// the code indices [B, H, W] (int64). The caller owns both.
    /// </returns>
    public (Tensor Quantized, Tensor Indices) Quantize(Tensor latents)
    {
        ArgumentNullException.ThrowIfNull(latents);
        if (latents.dim() != 4 || latents.shape[1] != EmbeddingDim)
            throw new ArgumentException($"expected latents [B, {EmbeddingDim}, H, W], got [{string.Join(", ", latents.shape)}].", nameof(latents));
        using var scope = NewDisposeScope();
        long b = latents.shape[0], h = latents.shape[2], w = latents.shape[3];
        var z = latents.permute(0, 2, 3, 1).contiguous();
        var flat = z.view(-1, EmbeddingDim);
        var codes = embedding.weight!;
        var codeNorms = codes.pow(2).sum(1);
        var chunks = new List<Tensor>();
        for (long start = 0; start < flat.shape[0]; start += ChunkRows)
        {
            using var inner = NewDisposeScope();
            var rows = flat.narrow(0, start, Math.Min(ChunkRows, flat.shape[0] - start));
            // |z − e|² = |z|² − 2 z·e + |e|²; |z|² is the same for every code of a row, so it does not change the argmin.
            var distances = torch.addmm(codeNorms.unsqueeze(0), rows, codes.t(), beta: 1f, alpha: -2f);
            chunks.Add(distances.argmin(1).MoveToOuterDisposeScope());
        }
        var indices = torch.cat(chunks, 0);
        var zq = embedding.call(indices).view(z.shape);
        var straightThrough = z + (zq - z);
        var quantized = straightThrough.permute(0, 3, 1, 2).contiguous();
        return (quantized.MoveToOuterDisposeScope(), indices.view(b, h, w).MoveToOuterDisposeScope());
    }
}
