using TorchSharp;

namespace DiffusionSteeringLens.Models.Kandinsky.Schedulers;

/// <summary>One DDPM step's outputs; the caller owns (and disposes) both tensors.</summary>
/// <param name="PrevSample">The sample at the previous (less noisy) timestep.</param>
/// <param name="PredOriginalSample">The model's estimate of the clean sample x0 (after clipping, if configured).</param>
internal sealed record DdpmStepResult(torch.Tensor PrevSample, torch.Tensor PredOriginalSample) : IDisposable
{
    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        PrevSample.Dispose();
        PredOriginalSample.Dispose();
    }
}
