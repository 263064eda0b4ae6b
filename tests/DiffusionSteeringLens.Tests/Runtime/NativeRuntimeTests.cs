using DiffusionSteeringLens.Runtime;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Runtime;

public sealed class NativeRuntimeTests
{
    [Fact]
    public void LibTorchLoadsAndComputes()
    {
        TorchNativeLoader.EnsureLoaded();
        using var t = torch.arange(6, dtype: torch.float32).reshape(2, 3);
        Assert.Equal(15f, t.sum().item<float>());
    }

    [Fact]
    public void PatcherWeakensTheGlibcxxRequirementOfTheShippedBridge()
    {
        var original = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).FirstOrDefault();
        Assert.NotNull(original);
        var bytes = File.ReadAllBytes(original);
        // Either the build-time patch already ran (idempotent: still reports the entry) or it is patched now.
        Assert.True(ElfVersionPatcher.Weaken(bytes, "GLIBCXX_3.4.32"));
        var again = (byte[])bytes.Clone();
        Assert.True(ElfVersionPatcher.Weaken(again, "GLIBCXX_3.4.32"));
        Assert.Equal(bytes, again); // idempotent
        Assert.False(ElfVersionPatcher.Weaken((byte[])bytes.Clone(), "GLIBCXX_9.9.99"));
    }

    [Fact]
    public void NonElfInputIsLeftAlone()
    {
        var data = new byte[128];
        Assert.False(ElfVersionPatcher.Weaken(data, "GLIBCXX_3.4.32"));
        Assert.All(data, b => Assert.Equal(0, b));
    }
}
