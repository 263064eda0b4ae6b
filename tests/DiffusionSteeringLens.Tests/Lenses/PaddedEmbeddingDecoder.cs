using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.Models.Kandinsky;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Lenses;

/// <summary>
/// Test-only adapter: the golden CLIP fixture emits 24-d embeddings while the golden UNet expects 32-d ones (both are
/// random tiny models from different reference tests), so embeddings are zero-padded to the decoder's width.
/// </summary>
internal sealed class PaddedEmbeddingDecoder : IEmbeddingDecoder
{
    private readonly IEmbeddingDecoder _inner;

    public PaddedEmbeddingDecoder(IEmbeddingDecoder inner, int inputDim)
    {
        _inner = inner;
        EmbeddingDim = inputDim;
    }

    public int EmbeddingDim { get; }

    public int Calls { get; private set; }

    public torch.Tensor Decode(torch.Tensor imageEmbeds, torch.Tensor? negativeImageEmbeds, DecodeOptions? options = null,
        IProgress<DecodeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Calls++;
        using var pos = Pad(imageEmbeds);
        using var neg = negativeImageEmbeds is null ? null : Pad(negativeImageEmbeds);
        return _inner.Decode(pos, neg, options, progress, cancellationToken);
    }

    private torch.Tensor Pad(torch.Tensor e) =>
        torch.nn.functional.pad(e, new long[] { 0, _inner.EmbeddingDim - e.shape[^1] });

    public void Dispose() => _inner.Dispose();
}
