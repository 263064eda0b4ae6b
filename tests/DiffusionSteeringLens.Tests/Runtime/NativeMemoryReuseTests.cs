using System.Runtime.InteropServices;
using DiffusionSteeringLens.Runtime;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Runtime;

/// <summary>
/// <see cref="TorchNativeLoader.EnableMemoryReuse"/>: on Linux with glibc, a large tensor allocated after an equally large one was freed
/// lands on pages that are already mapped. Without it glibc maps every block above 32 MiB fresh, and touching it costs
/// one minor page fault per 4 KiB page (unless the kernel backs it with huge pages). The test assembly turns reuse on at
/// start-up, as the dsl tool does.
/// </summary>
public sealed class NativeMemoryReuseTests
{
    // Above glibc's largest automatic mmap threshold (32 MiB), below the 64 MiB heap of a thread's own arena: xunit runs
    // tests on thread-pool threads, whose arenas serve blocks up to that size from their heaps once reuse is on.
    private const long Bytes = 48L << 20;
    private const int PageSize = 4096;

    [Fact]
    public void Enable_is_idempotent_and_takes_effect_where_glibc_is_the_c_library()
    {
        bool glibc = OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libc.so.6", out var libc)
                     && NativeLibrary.TryGetExport(libc, "gnu_get_libc_version", out _);
        Assert.Equal(glibc, TorchNativeLoader.EnableMemoryReuse());
        Assert.Equal(glibc, TorchNativeLoader.EnableMemoryReuse());
        Assert.Equal(glibc, TorchNativeLoader.MemoryReuseEnabled);
    }

    [Fact]
    public void A_freed_48_MiB_tensor_is_reused_without_fresh_page_faults()
    {
        if (!TorchNativeLoader.EnableMemoryReuse()) return; // not glibc: nothing was changed, nothing to check
        using (var first = torch.empty(new[] { Bytes }, dtype: torch.uint8)) TouchEveryPage(first);
        long before = ThreadMinorFaults();
        using var second = torch.empty(new[] { Bytes }, dtype: torch.uint8);
        TouchEveryPage(second);
        long faults = ThreadMinorFaults() - before;
        // A fresh mapping faults 12,288 times here (one per 4 KiB page); the reused heap block faults (almost) never.
        // The bound leaves room for a neighbouring test's allocation taking part of the freed block meanwhile.
        long pages = Bytes / PageSize;
        Assert.True(faults < pages / 10, $"{faults} minor page faults touching {pages} pages of a reallocated 48 MiB tensor.");
    }

    [Fact]
    public void A_48_MiB_tensor_comes_from_the_heap_not_from_a_fresh_mapping()
    {
        if (!TorchNativeLoader.EnableMemoryReuse()) return;
        using var t = torch.empty(new[] { Bytes }, dtype: torch.uint8);
        // glibc keeps each block's size in the word before it; bit 1 (IS_MMAPPED) marks a block mapped on its own, which
        // is what every block above the automatic mmap threshold (at most 32 MiB) is unless the threshold was raised.
        long sizeWord = Marshal.ReadInt64((IntPtr)t.storage<byte>().data_ptr() - 8);
        Assert.True((sizeWord & 2) == 0, $"the 48 MiB block is mapped on its own (size word 0x{sizeWord:x}).");
    }

    [Fact]
    public void Libtorchs_huge_page_switch_is_in_the_native_environment()
    {
        if (!TorchNativeLoader.EnableMemoryReuse()) return;
        // What libtorch's allocator reads is the C library's environment, which .NET's Environment does not write to.
        var value = Marshal.PtrToStringUTF8(getenv(NativeMemoryReuse.TorchHugePagesVariable));
        Assert.False(string.IsNullOrEmpty(value), "THP_MEM_ALLOC_ENABLE is not set in the native environment.");
        // Enable keeps a value the user set before the process started (overwrite 0).
        Assert.Equal(Environment.GetEnvironmentVariable(NativeMemoryReuse.TorchHugePagesVariable) ?? "1", value);
    }

    // Touches the pages on this thread, so the thread's own fault counter (RUSAGE_THREAD) sees every fault and no other
    // test's.
    private static void TouchEveryPage(torch.Tensor t)
    {
        var bytes = t.bytes;
        for (int i = 0; i < bytes.Length; i += PageSize) bytes[i] = 1;
    }

    private static long ThreadMinorFaults()
    {
        Assert.Equal(0, getrusage(RusageThread, out var usage));
        return usage.MinorFaults;
    }

    private const int RusageThread = 1;

    // struct rusage on 64-bit Linux: two timevals, then 14 longs of which ru_minflt is the fifth.
    [StructLayout(LayoutKind.Sequential)]
    private struct Rusage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
        public long MaxRss, SharedText, UnsharedData, UnsharedStack, MinorFaults, MajorFaults;
        public long Swaps, BlockIn, BlockOut, MessagesSent, MessagesReceived, Signals, VoluntarySwitches, InvoluntarySwitches;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, out Rusage usage);

    [DllImport("libc")]
    private static extern IntPtr getenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
}
