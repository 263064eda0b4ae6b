using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Experiments;

/// <summary>What every experiment step needs: the encoder, its input and (optionally) a way to decode and compare pictures.</summary>
/// <remarks>Does not own anything it is given.</remarks>
public sealed class StudyContext
{
    /// <summary>Creates a context.</summary>
    public StudyContext(IHookedVit encoder, PreparedInput input, PictureSweep? pictures = null, IImageSimilarity? imageSimilarity = null,
        IProgress<LensProgress>? progress = null)
    {
        Encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        Input = input ?? throw new ArgumentNullException(nameof(input));
        Pictures = pictures;
        // Decoded pictures are re-encoded with the input's own normalisation (CLIP's constants only when it is unknown).
        ImageSimilarity = imageSimilarity ?? (pictures is null ? null
            : new EncoderImageSimilarity(encoder, input.Processor?.ImageMean, input.Processor?.ImageStd));
        Progress = progress;
    }

    /// <summary>The encoder under study.</summary>
    public IHookedVit Encoder { get; }

    /// <summary>The input (pixels and pictures).</summary>
    public PreparedInput Input { get; }

    /// <summary>Decodes read-outs to pictures on disk (resumable); null = embedding-space scores only.</summary>
    public PictureSweep? Pictures { get; }

    /// <summary>Compares decoded pictures with the input picture; set whenever <see cref="Pictures"/> is.</summary>
    public IImageSimilarity? ImageSimilarity { get; }

    /// <summary>Progress sink.</summary>
    public IProgress<LensProgress>? Progress { get; }

    /// <summary>Whether read-outs are decoded.</summary>
    public bool Decodes => Pictures is not null;

    /// <summary>A copy with a different input (e.g. the overlaid image of the overlay study).</summary>
    public StudyContext WithInput(PreparedInput input) => new(Encoder, input, Pictures, ImageSimilarity, Progress);
}
