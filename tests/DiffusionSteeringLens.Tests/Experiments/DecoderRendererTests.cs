using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Experiments;

/// <summary>
/// <see cref="LensRenderer.Decode"/>, the adapter from a decoder to the pictures a sweep stores: embeddings
/// reach the decoder in its dtype with the negative embedding and one seed, and come back float32 in [0, 1] at the
/// requested size whatever size and range the decoder returns.
/// </summary>
public sealed class DecoderRendererTests
{
    /// <summary>Returns [B, 3, 70, 70] float64 pictures spanning [−1, 2] and records what it was given.</summary>
    private sealed class RecordingDecoder : IEmbeddingDecoder
    {
        public int EmbeddingDim => 4;
        public torch.ScalarType? SeenDType { get; private set; }
        public long[]? SeenNegativeShape { get; private set; }
        public long? SeenSeed { get; private set; }

        public torch.Tensor Decode(torch.Tensor imageEmbeds, torch.Tensor? negativeImageEmbeds, DecodeOptions? options = null,
            IProgress<DecodeProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            SeenDType = imageEmbeds.dtype;
            SeenNegativeShape = negativeImageEmbeds?.shape;
            SeenSeed = options?.SeedOf(0);
            return torch.linspace(-1, 2, 3 * 70 * 70, dtype: torch.float64).view(1, 3, 70, 70).expand(imageEmbeds.shape[0], -1, -1, -1).clone();
        }

        public void Dispose() { }
    }

    [Fact]
    public void CastsDecodesResizesAndClamps()
    {
        using var scope = torch.NewDisposeScope();   // the temporaries of the checks
        using var decoder = new RecordingDecoder();
        using var negative = torch.zeros(1, 4);
        var renderer = new LensRenderer(decoder) { Size = 64, DType = torch.ScalarType.Float64, Device = torch.CPU };
        EmbeddingRenderer render = (e, ct) => renderer.Decode(e, negative, new DecodeOptions { Seed = 7 }, ct);
        using var embeddings = torch.ones(2, 4);
        using var pictures = render(embeddings, CancellationToken.None);
        Assert.Equal(torch.ScalarType.Float64, decoder.SeenDType);
        Assert.Equal(new long[] { 1, 4 }, decoder.SeenNegativeShape);
        Assert.Equal(7, decoder.SeenSeed);
        Assert.Equal(new long[] { 2, 3, 64, 64 }, pictures.shape);
        Assert.Equal(torch.ScalarType.Float32, pictures.dtype);
        Assert.Equal(0.0, pictures.min().item<float>());
        Assert.Equal(1.0, pictures.max().item<float>());
    }

    [Fact]
    public void RejectsPerPictureSeedsAndAMisshapedNegative()
    {
        using var decoder = new RecordingDecoder();
        using var negative = torch.zeros(1, 4);
        using var wide = torch.zeros(1, 5);
        using var embeddings = torch.ones(2, 4);
        var renderer = new LensRenderer(decoder) { Size = 64, DType = torch.ScalarType.Float32, Device = torch.CPU };
        Assert.Contains("Seeds", Assert.Throws<ArgumentException>(() => renderer.Decode(embeddings, negative,
            new DecodeOptions { Seeds = new long[] { 1, 2 } })).Message);
        Assert.Contains("[1, 4]", Assert.Throws<ArgumentException>(() => renderer.Decode(embeddings, wide,
            new DecodeOptions())).Message);
        Assert.Null(decoder.SeenDType);   // nothing was decoded
    }
}
