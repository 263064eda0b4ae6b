using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Decoding;

/// <summary>
/// Feeds recorded randomness — e.g. the initial latents and per-step variance noise of a reference run — so a decode
/// reproduces that run exactly. Row i of every tensor belongs to image i of the decode call.
/// </summary>
internal sealed class ReplayNoiseSource : INoiseSource
{
    private readonly Tensor _initialLatents;
    private readonly IReadOnlyList<Tensor> _stepNoises;

    /// <summary>Creates the source; the tensors stay owned by the caller and must outlive it.</summary>
    /// <param name="initialLatents">[N, C, h, w].</param>
    /// <param name="stepNoises">One [N, C, h, w] tensor per noise-adding step, in step order.</param>
    public ReplayNoiseSource(Tensor initialLatents, IReadOnlyList<Tensor> stepNoises)
    {
        ArgumentNullException.ThrowIfNull(initialLatents);
        ArgumentNullException.ThrowIfNull(stepNoises);
        foreach (var (noise, i) in stepNoises.Select((n, i) => (n, i)))
            if (!noise.shape.SequenceEqual(initialLatents.shape))
                throw new ArgumentException($"step noise {i} has shape [{string.Join(", ", noise.shape)}], initial latents [{string.Join(", ", initialLatents.shape)}].", nameof(stepNoises));
        _initialLatents = initialLatents;
        _stepNoises = stepNoises;
    }

    /// <inheritdoc />
    public Tensor InitialLatents(int firstImage, long[] shape, ScalarType dtype, Device device) =>
        Slice(_initialLatents, firstImage, shape, dtype, device, "initial latents");

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">No recorded noise for that step.</exception>
    public Tensor StepNoise(int firstImage, int step, long[] shape, ScalarType dtype, Device device)
    {
        if (step < 0 || step >= _stepNoises.Count)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"only {_stepNoises.Count} steps were recorded.");
        return Slice(_stepNoises[step], firstImage, shape, dtype, device, $"step {step} noise");
    }

    private static Tensor Slice(Tensor source, int firstImage, long[] shape, ScalarType dtype, Device device, string what)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (firstImage < 0 || firstImage + shape[0] > source.shape[0] || !source.shape.Skip(1).SequenceEqual(shape.Skip(1)))
            throw new ArgumentException(
                $"recorded {what} [{string.Join(", ", source.shape)}] cannot supply images {firstImage}..{firstImage + shape[0] - 1} of shape [{string.Join(", ", shape.Skip(1))}].");
        using var rows = source.narrow(0, firstImage, shape[0]);
        return rows.to(dtype, device, copy: true);
    }
}
