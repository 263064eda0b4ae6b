using System.Runtime.Intrinsics.X86;

namespace DiffusionSteeringLens.Tests.TestSupport;

/// <summary>
/// Which CPU kernel family libtorch dispatches to in this process: the capability asked for with
/// <c>ATEN_CPU_CAPABILITY</c> (default: the best one), capped by what the CPU supports. Tests use it only where
/// libtorch itself computes differently per family, to say which result is exact and which is bounded.
/// </summary>
internal static class LibtorchCpuKernels
{
    public static string Effective()
    {
        bool avx2 = Avx2.IsSupported && Fma.IsSupported;
        bool avx512 = Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported;
        string best = avx512 ? "avx512" : avx2 ? "avx2" : "default";
        return (Environment.GetEnvironmentVariable("ATEN_CPU_CAPABILITY") ?? "").Trim().ToLowerInvariant() switch
        {
            "default" => "default",
            "avx2" => avx2 ? "avx2" : "default",
            _ => best,
        };
    }
}
