using DiffusionSteeringLens.Models.Kandinsky;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Kandinsky.Pipeline;

/// <summary>Wraps a latent decoder and keeps copies of what it received (final latents) and returned (raw decode).</summary>
internal sealed class RecordingLatentDecoder : ILatentImageDecoder
{
    private readonly ILatentImageDecoder _inner;

    public RecordingLatentDecoder(ILatentImageDecoder inner) => _inner = inner;

    public int ScaleFactor => _inner.ScaleFactor;
    public int LatentChannels => _inner.LatentChannels;
    public List<torch.Tensor> Inputs { get; } = new();
    public List<torch.Tensor> Outputs { get; } = new();

    public torch.Tensor Decode(torch.Tensor latents)
    {
        Inputs.Add(latents.clone().DetachFromDisposeScope());
        var result = _inner.Decode(latents);
        Outputs.Add(result.clone().DetachFromDisposeScope());
        return result;
    }

    public void Dispose()
    {
        foreach (var t in Inputs.Concat(Outputs)) t.Dispose();
        _inner.Dispose();
    }
}
