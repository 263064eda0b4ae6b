using DiffusionSteeringLens.Decoding;

namespace DiffusionSteeringLens.Models.Kandinsky;

/// <summary>
/// Sampling options only <see cref="KandinskyV22Decoder"/> understands, on top of the decoder-neutral size and seed
/// policy. Plain <see cref="DecodeOptions"/> given to that decoder sample with the defaults below.
/// </summary>
public sealed record KandinskyDecodeOptions : DecodeOptions
{
    /// <summary>Denoising steps (the official Kandinsky 2.2 wrapper uses 50; the diffusers pipeline defaults to 100).</summary>
    public int NumInferenceSteps { get; init; } = 50;

    /// <summary>Classifier-free guidance scale; guidance is on only when it is greater than 1.</summary>
    public double GuidanceScale { get; init; } = 4.0;

    /// <summary>Defaults.</summary>
    public static new KandinskyDecodeOptions Default { get; } = new();

    /// <summary>Kandinsky options for any decode options: themselves, or the neutral ones with default sampling settings.</summary>
    internal static KandinskyDecodeOptions From(DecodeOptions? options) => options switch
    {
        null => Default,
        KandinskyDecodeOptions k => k,
        _ => new KandinskyDecodeOptions
        {
            Height = options.Height, Width = options.Width, Seed = options.Seed, Seeds = options.Seeds, NoiseSource = options.NoiseSource,
        },
    };

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (NumInferenceSteps < 1) throw new ArgumentOutOfRangeException(nameof(NumInferenceSteps), NumInferenceSteps, "must be at least 1.");
        if (!double.IsFinite(GuidanceScale)) throw new ArgumentOutOfRangeException(nameof(GuidanceScale), GuidanceScale, "must be finite.");
    }
}
