using Microsoft.Extensions.Logging;
using TorchSharp;

namespace DiffusionSteeringLens.Runtime;

/// <summary>Where and in which precision a model is built and run.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Device for weights and compute; CPU by default. Use <c>torch.CUDA</c> with a CUDA libtorch backend.</summary>
    public torch.Device Device { get; init; } = torch.CPU;

    /// <summary>
    /// Compute dtype. Float32 by default; BFloat16/Float16 for GPUs. Checkpoints in any floating dtype are converted on load
    /// (fp16 checkpoints upcast on CPU, where half-precision matmul is unusably slow).
    /// </summary>
    public torch.ScalarType DType { get; init; } = torch.ScalarType.Float32;

    /// <summary>Logger factory for load diagnostics; null logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Defaults: CPU, float32, no logging.</summary>
    public static ModelLoadOptions Default { get; } = new();
}
