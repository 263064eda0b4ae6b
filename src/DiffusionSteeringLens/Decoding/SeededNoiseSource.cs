using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Decoding;

/// <summary>
/// One CPU <see cref="torch.Generator"/> per picture, seeded with that picture's seed: the initial latents are its
/// first draw and each step's noise the next, as with a per-image generator in diffusers. The noise therefore depends
/// only on the picture's own seed, not on its row, batch size or neighbours, and matches PyTorch's CPU random stream.
/// </summary>
/// <remarks>Not thread-safe; use one instance per decode call at a time.</remarks>
internal sealed class SeededNoiseSource : INoiseSource, IDisposable
{
    private readonly Dictionary<int, Generator> _generators = new();

    /// <summary>Creates a source in which every picture uses <paramref name="seed"/>.</summary>
    /// <param name="seed">The seed of every picture.</param>
    public SeededNoiseSource(long seed)
    {
        Seed = seed;
        _seedOf = _ => seed;
    }

    /// <summary>Creates the source of a decode call's seed policy (<see cref="DecodeOptions.SeedOf"/>).</summary>
    internal SeededNoiseSource(DecodeOptions options)
    {
        Seed = options.SeedOf(0);
        _seedOf = options.SeedOf;
    }

    /// <summary>
    /// Creates a source with an explicit seed per image of the decode call (image i uses <c>seeds[i]</c>), e.g. the same
    /// seed for every lens target of one input image so their pictures differ only by the embedding.
    /// </summary>
    /// <param name="seeds">One seed per image.</param>
    public SeededNoiseSource(IReadOnlyList<long> seeds)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        var copy = seeds.ToArray();
        Seed = copy.Length > 0 ? copy[0] : 0;
        _seedOf = image => image < copy.Length
            ? copy[image]
            : throw new ArgumentOutOfRangeException(nameof(image), $"image {image} has no seed ({copy.Length} given).");
    }

    private readonly Func<int, long> _seedOf;

    /// <summary>Seed of picture 0.</summary>
    public long Seed { get; }

    /// <inheritdoc />
    /// <remarks>Re-seeds the generators of these images, so a new decode call starts their streams afresh.</remarks>
    public Tensor InitialLatents(int firstImage, long[] shape, ScalarType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(shape);
        for (long i = 0; i < shape[0]; i++)
        {
            int image = firstImage + (int)i;
            if (_generators.Remove(image, out var old)) old.Dispose();
            _generators[image] = new Generator(unchecked((ulong)_seedOf(image)), CPU);
        }
        return Draw(firstImage, shape, dtype, device);
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException"><see cref="InitialLatents"/> was not called first for these images.</exception>
    public Tensor StepNoise(int firstImage, int step, long[] shape, ScalarType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return Draw(firstImage, shape, dtype, device);
    }

    /// <summary>Disposes the generators.</summary>
    public void Dispose()
    {
        foreach (var g in _generators.Values) g.Dispose();
        _generators.Clear();
    }

    // Each image draws its own [1, …] slice from its own generator, in float32 on the CPU (PyTorch's stream), then
    // the chunk is moved to the requested dtype and device.
    private Tensor Draw(int firstImage, long[] shape, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        var one = (long[])shape.Clone();
        one[0] = 1;
        var parts = new List<Tensor>();
        for (long i = 0; i < shape[0]; i++)
        {
            int image = firstImage + (int)i;
            if (!_generators.TryGetValue(image, out var g))
                throw new InvalidOperationException($"image {image}: initial latents must be drawn before step noise.");
            parts.Add(randn(one, dtype: ScalarType.Float32, device: CPU, generator: g));
        }
        return cat(parts, 0).to(dtype, device).MoveToOuterDisposeScope();
    }
}
