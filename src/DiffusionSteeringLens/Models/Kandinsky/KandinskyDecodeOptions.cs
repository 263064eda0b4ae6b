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

    /// <summary>
    /// Pictures denoised together, as one UNet batch [negatives…, positives…]; the latent decoder (MoVQ) then still
    /// decodes them one at a time. 1 (the default) denoises every picture alone, so its bits depend only on its
    /// embedding, seed and settings (on a given machine and thread count). More uses larger UNet batches, which pays
    /// where the hardware gains from them (GPUs; not measured in this project) — on a 2-core CPU it did not: a UNet step's
    /// cost is linear in the batch there, and full-size <c>dsl steer</c> took 3 min 56 s with every picture alone against
    /// 4 min 20 s four at a time, with 1.2 M KiB more memory (docs/performance.md, stop 27). libtorch then picks kernels
    /// and summation orders for the batch, so a picture's last bits depend on how many neighbours it was denoised with;
    /// the sampling loop can carry such differences further. The noise is the same either way (one generator per
    /// picture).
    /// </summary>
    public int PicturesPerBatch { get; init; } = 1;

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
        if (PicturesPerBatch < 1) throw new ArgumentOutOfRangeException(nameof(PicturesPerBatch), PicturesPerBatch, "must be at least 1.");
    }
}
