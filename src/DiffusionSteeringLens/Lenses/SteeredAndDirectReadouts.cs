using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>DSL and DL read-outs [B, N, P] of the same targets and the clean output embedding [B, P]; owns all three.</summary>
internal sealed record SteeredAndDirectReadouts(torch.Tensor Steered, torch.Tensor Direct, torch.Tensor Clean) : IDisposable
{
    public void Dispose()
    {
        Steered.Dispose();
        Direct.Dispose();
        Clean.Dispose();
    }
}
