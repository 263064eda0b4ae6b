using DiffusionSteeringLens.Hooks;
using TorchSharp;

namespace DiffusionSteeringLens.Models.Vit;

/// <summary>The output embedding of a run and the activations it cached. Dispose it.</summary>
/// <param name="Output">Output embedding [B, P] (owned).</param>
/// <param name="Cache">The cached activations (owned).</param>
public sealed record VitRun(torch.Tensor Output, ActivationCache Cache) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        Output.Dispose();
        Cache.Dispose();
    }
}
