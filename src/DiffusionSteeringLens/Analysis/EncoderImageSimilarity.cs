using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Analysis;

/// <summary>
/// Default image similarity: cosine between the encoder's own output embeddings of the two pictures. Pictures are resized
/// to the encoder's resolution (antialiased bicubic, float) and normalised with the processor's mean/std.
/// </summary>
public sealed class EncoderImageSimilarity : IImageSimilarity
{
    private readonly IHookedVit _encoder;
    private readonly ClipImageProcessor _normaliser;

    /// <summary>Creates the similarity for an encoder and its normalisation constants (CLIP's by default).</summary>
    /// <exception cref="ArgumentException"><paramref name="mean"/> or <paramref name="std"/> does not have 3 values.</exception>
    public EncoderImageSimilarity(IHookedVit encoder, double[]? mean = null, double[]? std = null)
    {
        _encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        // Normalise only: Embed resizes floats itself (the processor's resize is Pillow's, on uint8).
        _normaliser = new ClipImageProcessor(new ClipImageProcessorConfig
        {
            DoResize = false, DoCenterCrop = false,
            ImageMean = mean ?? ClipImageProcessorConfig.OpenAiClipMean.ToArray(),
            ImageStd = std ?? ClipImageProcessorConfig.OpenAiClipStd.ToArray(),
        });
    }

    /// <inheritdoc />
    public string Name => "encoder-cosine";

    /// <summary>Encoder embeddings [N, P] of pictures [N, 3, H, W] in [0, 1].</summary>
    public torch.Tensor Embed(torch.Tensor pictures)
    {
        if (pictures.ndim != 4 || pictures.shape[1] != 3)
            throw new ArgumentException($"pictures must be [N, 3, H, W]; got [{string.Join(", ", pictures.shape)}].", nameof(pictures));
        using var scope = torch.NewDisposeScope();
        int s = _encoder.Architecture.ImageSize;
        var x = pictures.to(torch.float32).to(_encoder.Device);
        if (x.shape[2] != s || x.shape[3] != s)
            x = torch.nn.functional.interpolate(x, new long[] { s, s }, mode: torch.InterpolationMode.Bicubic, align_corners: false, antialias: true);
        var pixels = _normaliser.PreprocessFloat(x).to(_encoder.DType);
        return _encoder.Forward(pixels).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public double[] Similarity(torch.Tensor pictures, torch.Tensor references)
    {
        using var a = Embed(pictures);
        using var b = Embed(references);
        return EmbeddingSimilarity.CosineRows(a, b);
    }
}
