using System.Runtime.InteropServices;
using TorchSharp;

namespace DiffusionSteeringLens.Runtime;

/// <summary>
/// Makes TorchSharp's native bridge load on distributions whose libstdc++ is older than the one it was built
/// against (Debian 12, Ubuntu 22.04). A no-op where the plain load works.
/// </summary>
/// <remarks>
/// Opt-in: nothing happens until an application calls <see cref="EnsureLoaded"/> before its first tensor operation
/// (the dsl tool, the trainer, the examples, the benchmarks and the test assembly do). If dlopen of
/// libLibTorchSharp.so fails only for lack of GLIBCXX_3.4.32, a copy with that requirement marked weak is written next
/// to the original (never in the NuGet cache's file itself) and TorchSharp's imports are routed to it. Applications
/// built with this package usually do not need it: the package's build targets patch the copy in the output folder.
/// </remarks>
public static class TorchNativeLoader
{
    private const string MissingVersion = "GLIBCXX_3.4.32";
    private const string PatchedName = "libLibTorchSharp.glibcxx-weak.so";
    private static readonly object Gate = new();
    private static bool _installed;
    private static IntPtr _handle;
    private static string? _diagnostic;

    /// <summary>Path of the patched copy in use, or null when the original loaded as is (or not on Linux).</summary>
    public static string? PatchedPath { get; private set; }

    /// <summary>Installs the workaround if needed. Idempotent and thread-safe.</summary>
    internal static void Install()
    {
        lock (Gate)
        {
            if (_installed) return;
            _installed = true;
            if (!OperatingSystem.IsLinux()) return;
            var torchAssembly = typeof(torch).Assembly; // typeof does not run torch's static constructor
            var baseDir = Path.GetDirectoryName(torchAssembly.Location);
            if (string.IsNullOrEmpty(baseDir)) return;
            string[] candidates =
            {
                Path.Combine(baseDir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
                Path.Combine(baseDir, "libLibTorchSharp.so"),
            };
            var original = candidates.FirstOrDefault(File.Exists);
            if (original is null)
            {
                _diagnostic = $"libLibTorchSharp.so was not found next to {torchAssembly.Location}: the application references " +
                              "TorchSharp without a native backend. Add the package 'TorchSharp-cpu' (or 'libtorch-cpu-linux-x64'), " +
                              "or a CUDA backend, to the application project.";
                return;
            }
            string firstError;
            try
            {
                _handle = NativeLibrary.Load(original);
                return; // plain load works: nothing to do
            }
            catch (DllNotFoundException e) { firstError = e.Message; }
            catch (BadImageFormatException e) { firstError = e.Message; }

            if (!firstError.Contains(MissingVersion, StringComparison.Ordinal))
            {
                _diagnostic = $"Loading {original} failed: {firstError}";
                return;
            }
            var patched = Path.Combine(Path.GetDirectoryName(original)!, PatchedName);
            try
            {
                if (!File.Exists(patched) || File.GetLastWriteTimeUtc(patched) < File.GetLastWriteTimeUtc(original))
                {
                    var bytes = File.ReadAllBytes(original);
                    if (!ElfVersionPatcher.Weaken(bytes, MissingVersion))
                    {
                        _diagnostic = $"Loading {original} failed ({firstError}) and the file holds no {MissingVersion} requirement to weaken.";
                        return;
                    }
                    // Write then rename, so a concurrent process never maps a half-written library.
                    var tmp = patched + "." + Environment.ProcessId + ".tmp";
                    File.WriteAllBytes(tmp, bytes);
                    File.Move(tmp, patched, overwrite: true);
                }
                _handle = NativeLibrary.Load(patched);
                PatchedPath = patched;
                NativeLibrary.SetDllImportResolver(torchAssembly,
                    (name, _, _) => name == "LibTorchSharp" ? _handle : IntPtr.Zero);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or InvalidDataException)
            {
                _diagnostic = $"Loading {original} failed ({firstError}); writing or loading the patched copy {patched} failed too: {e.Message}. " +
                              "Build the application with the DiffusionSteeringLens package (its build targets patch the copy in the output folder) " +
                              "or run on a distribution with libstdc++ from GCC 13 or newer.";
            }
        }
    }

    /// <summary>
    /// Loads libtorch now, first writing and routing to the patched bridge copy if (and only if) the plain load fails
    /// for lack of GLIBCXX_3.4.32, and throws a <see cref="NativeRuntimeException"/> that names the failing file and reason,
    /// instead of TorchSharp's generic message. Idempotent; call it once at start-up, before the first tensor.
    /// </summary>
    public static void EnsureLoaded()
    {
        Install();
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e) when (e is not NativeRuntimeException)
        {
            var why = _diagnostic ?? e.Message;
            throw new NativeRuntimeException($"The libtorch native runtime could not be loaded. {why}", e);
        }
    }
}
