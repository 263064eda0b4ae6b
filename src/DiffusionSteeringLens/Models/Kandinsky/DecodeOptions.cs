namespace DiffusionSteeringLens.Models.Kandinsky;

/// <summary>Sampling options of an <see cref="IEmbeddingDecoder"/>.</summary>
public sealed record DecodeOptions
{
    /// <summary>Denoising steps (the official Kandinsky 2.2 wrapper uses 50; the diffusers pipeline defaults to 100).</summary>
    public int NumInferenceSteps { get; init; } = 50;

    /// <summary>Classifier-free guidance scale; guidance is on only when it is greater than 1.</summary>
    public double GuidanceScale { get; init; } = 4.0;

    /// <summary>Requested height in pixels; rounded up to a multiple of the decoder's granularity (64 for Kandinsky 2.2).</summary>
    public int Height { get; init; } = 512;

    /// <summary>Requested width in pixels; rounded up like <see cref="Height"/>.</summary>
    public int Width { get; init; } = 512;

    /// <summary>Seed of image 0; image i uses <c>Seed + i</c>. Ignored when <see cref="NoiseSource"/> is set.</summary>
    public long Seed { get; init; }

    /// <summary>Explicit randomness (e.g. a <see cref="ReplayNoiseSource"/>); null uses a <see cref="SeededNoiseSource"/> from <see cref="Seed"/>.</summary>
    public INoiseSource? NoiseSource { get; init; }

    /// <summary>Images denoised together; larger batches are processed in chunks of this size.</summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>Defaults.</summary>
    public static DecodeOptions Default { get; } = new();

    /// <summary>Throws when a value is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The offending option.</exception>
    public void Validate()
    {
        if (NumInferenceSteps < 1) throw new ArgumentOutOfRangeException(nameof(NumInferenceSteps), NumInferenceSteps, "must be at least 1.");
        if (!double.IsFinite(GuidanceScale)) throw new ArgumentOutOfRangeException(nameof(GuidanceScale), GuidanceScale, "must be finite.");
        if (Height < 1) throw new ArgumentOutOfRangeException(nameof(Height), Height, "must be at least 1.");
        if (Width < 1) throw new ArgumentOutOfRangeException(nameof(Width), Width, "must be at least 1.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "must be at least 1.");
    }
}
