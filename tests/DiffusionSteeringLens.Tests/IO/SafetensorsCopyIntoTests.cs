using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.IO;

/// <summary>Streamed, chunked loading into existing tensors (<see cref="ITensorSource.CopyInto"/>), as model loading uses it.</summary>
public sealed class SafetensorsCopyIntoTests
{
    [Theory]
    [InlineData(torch.ScalarType.Float32)]
    [InlineData(torch.ScalarType.BFloat16)]
    [InlineData(torch.ScalarType.Float16)]
    public void ChunkedCopyEqualsLoadThenConvert(torch.ScalarType destinationType)
    {
        var path = Path.Combine(Fixtures.TempFolder(), "w.safetensors");
        // Larger than one chunk (4 MiB of float16 = 2 Mi elements) and not a multiple of it; an odd-sized tensor first
        // so the big one starts at an offset that is not chunk-aligned.
        long big = SafetensorsFile.CopyChunkBytes / 2 * 2 + 12345;
        using var gen = new torch.Generator(7);
        using var small = torch.randn(new long[] { 3 }, generator: gen).to(torch.float16);
        using var large = torch.randn(new long[] { big / 5, 5 }, generator: gen).to(torch.float16);
        SafetensorsWriter.Write(path, new[] { KeyValuePair.Create("a", small), KeyValuePair.Create("b", large) });

        using var f = SafetensorsFile.Open(path);
        foreach (var name in new[] { "a", "b" })
        {
            using var expected = f.Load(name, destinationType);
            using var into = torch.empty(expected.shape, destinationType);
            f.CopyInto(name, into);
            TensorAssert.Equal(expected, into, name);
        }
        using var wrong = torch.empty(4);
        var e = Assert.Throws<ArgumentException>(() => f.CopyInto("a", wrong));
        Assert.Contains("'a'", e.Message);
        Assert.Contains("w.safetensors", e.Message);
    }

    [Fact]
    public void NonContiguousDestinationIsFilledToo()
    {
        var path = Path.Combine(Fixtures.TempFolder(), "w.safetensors");
        using var w = torch.arange(12, dtype: torch.float32).reshape(3, 4);
        SafetensorsWriter.Write(path, new Dictionary<string, torch.Tensor> { ["w"] = w });
        using var f = SafetensorsFile.Open(path);
        using var storage = torch.zeros(4, 3);
        using var transposed = storage.t();                                  // [3, 4], not contiguous
        f.CopyInto("w", transposed);
        TensorAssert.Equal(w, transposed, "w");
    }
}
