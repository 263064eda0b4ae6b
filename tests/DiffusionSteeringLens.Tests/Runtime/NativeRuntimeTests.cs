using System.Reflection;
using System.Runtime.CompilerServices;
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
    public void TheLibraryRunsNoCodeWhenItLoads()
    {
        // The load fix writes a patched binary, so it must be an explicit opt-in (TorchNativeLoader.EnsureLoaded), not
        // a module initializer that runs as soon as an application references the assembly.
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        var library = typeof(TorchNativeLoader).Assembly;
        var initializers = library.GetTypes().SelectMany(t => t.GetMethods(all))
            .Concat(library.ManifestModule.GetMethods(all))
            .Where(m => m.IsDefined(typeof(ModuleInitializerAttribute), inherit: false))
            .Select(m => $"{m.DeclaringType?.FullName}.{m.Name}").ToList();
        Assert.Empty(initializers);
        // …while the test assembly opts in, as an application would.
        Assert.Contains(typeof(NativeRuntimeTests).Assembly.GetTypes().SelectMany(t => t.GetMethods(all)),
            m => m.IsDefined(typeof(ModuleInitializerAttribute), inherit: false));
    }

    [Fact]
    public void NonElfInputIsLeftAlone()
    {
        var data = new byte[128];
        Assert.False(ElfVersionPatcher.Weaken(data, "GLIBCXX_3.4.32"));
        Assert.All(data, b => Assert.Equal(0, b));
    }
}
