using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.Models.Kandinsky;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

public sealed partial class PictureSweep
{
    /// <summary>
    /// The library's adapter from an <see cref="IEmbeddingDecoder"/> to the <see cref="EmbeddingRenderer"/> a sweep runs:
    /// embeddings are cast to the decoder's compute dtype and device, decoded with the library's seed policy (every
    /// picture uses <see cref="DecodeOptions.Seed"/>, so a picture depends only on its embedding, seed and settings), and
    /// returned as float32 CPU pictures in [0, 1] at the requested size. The decoder and the negative embedding stay
    /// owned by the caller.
    /// </summary>
    /// <param name="decoder">The decoder.</param>
    /// <param name="negative">[1, P] unconditional embedding for classifier-free guidance (e.g. the zero-image embedding).</param>
    /// <param name="options">Sampling settings; <see cref="DecodeOptions.Seeds"/> must be null (one seed for all pictures).</param>
    /// <param name="size">Side of the returned pictures; the decoder's output (rounded up to its granularity) is resized to it.</param>
    /// <param name="dtype">Dtype the embeddings are cast to before decoding (the decoder's compute dtype).</param>
    /// <param name="device">Device the embeddings are moved to.</param>
    /// <param name="progress">Denoising progress of each picture; may be null.</param>
    /// <exception cref="ArgumentException">Per-picture seeds, a negative embedding that is not [1, P], or a size below 1.</exception>
    public static EmbeddingRenderer DecoderRenderer(IEmbeddingDecoder decoder, torch.Tensor negative, DecodeOptions options, int size,
        torch.ScalarType dtype, torch.Device device, IProgress<DecodeProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(negative);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (options.Seeds is not null)
            throw new ArgumentException("the renderer gives every picture DecodeOptions.Seed; per-picture Seeds are not accepted.", nameof(options));
        if (negative.ndim != 2 || negative.shape[0] != 1 || negative.shape[1] != decoder.EmbeddingDim)
            throw new ArgumentException($"negative must be [1, {decoder.EmbeddingDim}]; got [{string.Join(", ", negative.shape)}].", nameof(negative));
        options.Validate();
        return (embeddings, ct) =>
        {
            using var scope = torch.NewDisposeScope();
            var onDevice = embeddings.to(dtype, device);
            var pictures = decoder.Decode(onDevice, negative, options, progress, ct).to(torch.float32).cpu();
            // The decoder may round the size up to its granularity; pictures are compared at the requested size.
            if (pictures.shape[2] != size || pictures.shape[3] != size)
                pictures = torch.nn.functional.interpolate(pictures, new long[] { size, size }, mode: torch.InterpolationMode.Bilinear,
                    align_corners: false, antialias: true);
            return pictures.clamp(0, 1).MoveToOuterDisposeScope();
        };
    }
}
