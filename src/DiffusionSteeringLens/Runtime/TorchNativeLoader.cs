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

    /// <summary>
    /// Keeps the memory libtorch frees on the CPU inside the process, so the next large tensor reuses pages that are
    /// already mapped instead of page-faulting in fresh, zeroed ones from the kernel. Opt-in and process-wide; the
    /// <c>dsl</c> tool, the examples, the benchmarks and the test assembly call it at start-up. Idempotent and
    /// thread-safe; call it once, before the first tensor (libtorch reads its huge-page switch at its first CPU
    /// allocation).
    /// </summary>
    /// <returns>True when the settings are made (Linux with glibc), false where the platform has no such setting.</returns>
    /// <remarks>
    /// <para>
    /// libtorch allocates every CPU tensor with <c>malloc</c>. glibc serves a block above its mmap threshold (which it
    /// raises by itself, but never past 32 MiB) with a fresh <c>mmap</c> and unmaps it again on <c>free</c>, and it hands
    /// the free top of its heap back to the kernel. The decoder's temporaries are tens to hundreds of MB (feature maps of
    /// 12–134 MB at 512 px, and every convolution's weight, which oneDNN copies into its blocked layout on every call), so
    /// each of them was paid for again in page faults: on the full-size Kandinsky 2.2 decoder a UNet step took 8.1 million
    /// minor faults (≈31 GiB of fresh pages) and ran 2.4–2.8× slower than with the memory kept (docs/performance.md).
    /// </para>
    /// <para>
    /// <see cref="EnableMemoryReuse"/> sets two glibc <c>mallopt</c> parameters: blocks below 128 MiB come from the heap
    /// (<c>M_MMAP_THRESHOLD</c>), and the heap is never trimmed (<c>M_TRIM_THRESHOLD</c> = −1). It also sets libtorch's
    /// <c>THP_MEM_ALLOC_ENABLE=1</c> (unless the environment already has a value): blocks of 2 MiB and more are then
    /// advised as transparent huge pages, one fault per 2 MiB instead of per 4 KiB page. That covers the blocks still mapped
    /// fresh: those of 128 MiB and more (left to the kernel on purpose: kept in the heap they raised the peak by a
    /// gigabyte and saved seconds), and, on any thread but the process's first, those that do not fit the 64 MiB heaps of
    /// the thread's own glibc arena (so the <c>dsl</c> tool runs its long work on its first thread). Setting <c>MALLOC_ARENA_MAX=1</c> in the environment before the process starts puts every
    /// thread on the first thread's heap, where the thresholds apply to all sizes; glibc fixes its arena limit before a
    /// program's <c>Main</c> could change it.
    /// </para>
    /// <para>
    /// The trade: the process's resident memory does not shrink after a peak (it stays available to the process's next
    /// tensors), a freed block is reused only by requests that fit into it, and a huge page counts whole once touched, so
    /// a peak can sit higher (<c>dsl steer</c> at full size: 15.0 GB, against 15.2 GB without these settings and 16.0 GB with
    /// every block up to 2 GiB kept in the heap).
    /// </para>
    /// <para>Only Linux with glibc has these parameters; elsewhere <see cref="EnableMemoryReuse"/> changes nothing and returns false.</para>
    /// </remarks>
    public static bool EnableMemoryReuse() => NativeMemoryReuse.Enable();

    /// <summary>Whether <see cref="EnableMemoryReuse"/> has run and took effect.</summary>
    public static bool MemoryReuseEnabled => NativeMemoryReuse.IsEnabled;
}
