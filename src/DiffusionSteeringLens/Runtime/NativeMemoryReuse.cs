using System.Runtime.InteropServices;

namespace DiffusionSteeringLens.Runtime;

/// <summary>
/// The glibc and libtorch allocator settings behind <see cref="TorchNativeLoader.EnableMemoryReuse"/> (whose remarks say
/// what they do and why).
/// </summary>
internal static class NativeMemoryReuse
{
    // glibc's malloc.h
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_THRESHOLD = -3;

    // Blocks below this come from the heap and are reused; larger ones (the MoVQ's 512-px feature maps, the UNet's widest
    // convolution weights in oneDNN's layout) are mapped as huge pages and unmapped on free, so they never strand in the
    // heap. Measured on `dsl steer` at full size: 2 GiB − 1 gave 3 min 36 s and a peak of 16.0 GB, 128 MiB 3 min 39 s and
    // 15.0 GB, 64 MiB 3 min 55 s and 14.3 GB (docs/performance.md).
    private const int HeapBlockLimit = 128 << 20;

    private static readonly object Gate = new();
    private static bool? _enabled;

    /// <summary>libtorch's switch for transparent huge pages on large CPU blocks (c10's CPU allocator).</summary>
    internal const string TorchHugePagesVariable = "THP_MEM_ALLOC_ENABLE";

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int MalloptFunction(int parameter, int value);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int SetenvFunction([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    /// <summary>Whether <see cref="Enable"/> has run and took effect.</summary>
    public static bool IsEnabled
    {
        get { lock (Gate) return _enabled == true; }
    }

    /// <summary>
    /// Sets glibc's allocator to keep freed memory for reuse and libtorch's to advise huge pages (see the remarks).
    /// Idempotent and thread-safe; call it once at start-up, before the first tensor (libtorch reads its huge-page switch
    /// at its first CPU allocation).
    /// </summary>
    /// <returns>True when the parameters are set (Linux with glibc), false where the platform has no such setting.</returns>
    public static bool Enable()
    {
        lock (Gate)
        {
            _enabled ??= TrySet();
            return _enabled.Value;
        }
    }

    private static bool TrySet()
    {
        if (!OperatingSystem.IsLinux()) return false;
        // musl and other C libraries have no mallopt (or a stub): look it up in glibc by its soname and do nothing otherwise.
        if (!NativeLibrary.TryLoad("libc.so.6", out var libc)) return false;
        if (!NativeLibrary.TryGetExport(libc, "mallopt", out var malloptAddress)) return false;
        if (NativeLibrary.TryGetExport(libc, "setenv", out var setenvAddress))
        {
            // libtorch's own switch, read once at its first CPU allocation (so this must come first): blocks of 2 MiB and
            // more are advised as transparent huge pages, so a block glibc maps fresh anyway faults once per 2 MiB, not per
            // 4 KiB. The process's native environment (not .NET's copy of it) is what libtorch reads; a value the user set
            // is kept (overwrite 0).
            var setenv = Marshal.GetDelegateForFunctionPointer<SetenvFunction>(setenvAddress);
            setenv(TorchHugePagesVariable, "1", 0);
        }
        var mallopt = Marshal.GetDelegateForFunctionPointer<MalloptFunction>(malloptAddress);
        // mallopt returns 1 on success; −1 is glibc's documented "never trim".
        return mallopt(M_MMAP_THRESHOLD, HeapBlockLimit) == 1 && mallopt(M_TRIM_THRESHOLD, -1) == 1;
    }
}
