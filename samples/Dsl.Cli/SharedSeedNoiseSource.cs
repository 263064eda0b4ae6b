#if HAS_DECODER
using DiffusionSteeringLens.Models.Kandinsky;
using TorchSharp;

namespace DiffusionSteeringLens.Cli;

/// <summary>
/// Every picture gets the same noise (its own generator, all seeded alike): pictures of different targets differ only
/// by their embeddings, and a picture does not depend on its position in a batch — which --resume relies on.
/// </summary>
internal sealed class SharedSeedNoiseSource(long seed) : INoiseSource, IDisposable
{
    private readonly Dictionary<int, torch.Generator> _generators = new();

    public torch.Tensor InitialLatents(int firstImage, long[] shape, torch.ScalarType dtype, torch.Device device)
    {
        for (int i = 0; i < shape[0]; i++)
        {
            if (_generators.Remove(firstImage + i, out var old)) old.Dispose();
            _generators[firstImage + i] = new torch.Generator(unchecked((ulong)seed), torch.CPU);
        }
        return Draw(firstImage, shape, dtype, device);
    }

    public torch.Tensor StepNoise(int firstImage, int step, long[] shape, torch.ScalarType dtype, torch.Device device) =>
        Draw(firstImage, shape, dtype, device);

    private torch.Tensor Draw(int firstImage, long[] shape, torch.ScalarType dtype, torch.Device device)
    {
        using var scope = torch.NewDisposeScope();
        var one = (long[])shape.Clone();
        one[0] = 1;
        var parts = Enumerable.Range(0, (int)shape[0]).Select(i => torch.randn(one, torch.float32, generator: _generators[firstImage + i])).ToArray();
        return torch.cat(parts, 0).to(dtype, device).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var g in _generators.Values) g.Dispose();
        _generators.Clear();
    }
}
#endif
