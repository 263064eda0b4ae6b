using System.Runtime.CompilerServices;
using DiffusionSteeringLens.Runtime;

namespace DiffusionSteeringLens.Tests.TestSupport;

/// <summary>
/// The test assembly opts in to the libtorch load fix (the library no longer does it by itself when it loads), so every
/// test runs on Debian 12 / Ubuntu 22.04 whichever test class touches a tensor first, and to the memory reuse the dsl
/// tool turns on.
/// </summary>
internal static class NativeRuntimeOptIn
{
#pragma warning disable CA2255 // a test assembly's start-up is exactly what a module initializer is for
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Load()
    {
        TorchNativeLoader.EnsureLoaded();
        TorchNativeLoader.EnableMemoryReuse(); // as the dsl tool runs: every numerics test then also runs on reused (not zeroed) memory
    }
}
