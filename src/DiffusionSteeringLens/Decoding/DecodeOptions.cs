namespace DiffusionSteeringLens.Decoding;

/// <summary>
/// Decoder-neutral options of an <see cref="IEmbeddingDecoder"/>: picture size and the seed policy. A decoder with
/// options of its own derives from this record (Kandinsky 2.2: <c>KandinskyDecodeOptions</c> adds steps and guidance),
/// so a custom decoder never has to accept settings it ignores.
/// </summary>
public record DecodeOptions
{
    /// <summary>Requested height in pixels; a decoder may round it up to its granularity (64 for Kandinsky 2.2).</summary>
    public int Height { get; init; } = 512;

    /// <summary>Requested width in pixels; rounded up like <see cref="Height"/>.</summary>
    public int Width { get; init; } = 512;

    /// <summary>
    /// The seed of every picture of the call, unless <see cref="Seeds"/> gives one per picture. A picture's noise is a
    /// function of its seed alone (never of its row or its batch neighbours), so equal seeds give equal noise and
    /// pictures that share a seed differ only by their embeddings.
    /// </summary>
    public long Seed { get; init; }

    /// <summary>
    /// One seed per picture (row of the embeddings), overriding <see cref="Seed"/>; its length must equal the number of
    /// embeddings decoded.
    /// </summary>
    public IReadOnlyList<long>? Seeds { get; init; }

    /// <summary>
    /// Explicit randomness replacing the seed policy (a <see cref="ReplayNoiseSource"/> replays the noise diffusers drew, for
    /// the golden tests); null uses a <see cref="SeededNoiseSource"/> from <see cref="Seed"/> / <see cref="Seeds"/>. Internal:
    /// the seed policy is the public contract, so a picture is always reproducible from its seed.
    /// </summary>
    internal INoiseSource? NoiseSource { get; init; }

    /// <summary>Defaults: 512×512, seed 0.</summary>
    public static DecodeOptions Default { get; } = new();

    /// <summary>The seed of picture <paramref name="picture"/> under this policy.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="Seeds"/> has no entry for that picture.</exception>
    public long SeedOf(int picture) => Seeds is null
        ? Seed
        : picture >= 0 && picture < Seeds.Count
            ? Seeds[picture]
            : throw new ArgumentOutOfRangeException(nameof(picture), picture, $"{nameof(Seeds)} holds {Seeds.Count} seeds.");

    /// <summary>Throws when a value is out of range; derived options check their own values too.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The offending option.</exception>
    public virtual void Validate()
    {
        if (Seeds is { Count: 0 }) throw new ArgumentOutOfRangeException(nameof(Seeds), "must hold one seed per picture (got none).");
        if (Height < 1) throw new ArgumentOutOfRangeException(nameof(Height), Height, "must be at least 1.");
        if (Width < 1) throw new ArgumentOutOfRangeException(nameof(Width), Width, "must be at least 1.");
    }
}
