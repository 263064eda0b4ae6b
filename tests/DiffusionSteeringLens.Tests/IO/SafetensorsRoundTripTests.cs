using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.IO;

public sealed class SafetensorsRoundTripTests
{
    public static IEnumerable<object[]> AllDTypes() =>
        new[]
        {
            torch.ScalarType.Float64, torch.ScalarType.Float32, torch.ScalarType.Float16, torch.ScalarType.BFloat16,
            torch.ScalarType.Int64, torch.ScalarType.Int32, torch.ScalarType.Int16, torch.ScalarType.Int8,
            torch.ScalarType.Byte, torch.ScalarType.Bool,
        }.Select(t => new object[] { t });

    [Theory]
    [MemberData(nameof(AllDTypes))]
    public void EveryDTypeRoundTripsExactly(torch.ScalarType dtype)
    {
        var dir = Fixtures.TempFolder();
        var path = Path.Combine(dir, "t.safetensors");
        using var source = (torch.arange(0, 24, dtype: torch.float64) * 3 - 20).reshape(2, 3, 4);
        using var typed = dtype == torch.ScalarType.Bool ? source.gt(0) : source.to(dtype);
        using var scalar = torch.tensor(7.0).to(dtype == torch.ScalarType.Bool ? torch.ScalarType.Float32 : dtype);
        SafetensorsWriter.Write(path, new Dictionary<string, torch.Tensor> { ["a.weight"] = typed, ["scalar"] = scalar },
            new Dictionary<string, string> { ["format"] = "pt" });

        using var f = SafetensorsFile.Open(path);
        Assert.Equal("pt", f.Metadata["format"]);
        Assert.Equal(SafetensorsDType.NameOf(dtype), f.GetInfo("a.weight").DType);
        using var back = f.Load("a.weight");
        TensorAssert.Equal(typed, back, "a.weight");
        using var backScalar = f.Load("scalar");
        Assert.Empty(backScalar.shape);
        TensorAssert.Equal(scalar, backScalar, "scalar");
    }

    [Fact]
    public void LoadConvertsToRequestedDType()
    {
        var path = Path.Combine(Fixtures.TempFolder(), "h.safetensors");
        using var half = torch.linspace(-2, 2, 9).to(torch.float16);
        SafetensorsWriter.Write(path, new Dictionary<string, torch.Tensor> { ["w"] = half });
        using var f = SafetensorsFile.Open(path);
        using var up = f.Load("w", torch.ScalarType.Float32);
        Assert.Equal(torch.ScalarType.Float32, up.dtype);
        using var expected = half.to(torch.float32);
        TensorAssert.Equal(expected, up, "w upcast");
    }

    [Fact]
    public void UnalignedDataIsReadByTheStreamingPath()
    {
        // A 4-byte header padding-free layout puts the F32 data at an odd absolute offset.
        var path = Path.Combine(Fixtures.TempFolder(), "odd.safetensors");
        var header = "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}";
        var values = new[] { 1.5f, -2.25f, 3.125f };
        using (var s = File.Create(path))
        {
            s.Write(BitConverter.GetBytes((ulong)header.Length));
            s.Write(System.Text.Encoding.UTF8.GetBytes(header));
            foreach (var v in values) s.Write(BitConverter.GetBytes(v));
        }
        Assert.NotEqual(0, (8 + header.Length) % 4);
        using var f = SafetensorsFile.Open(path);
        using var x = f.Load("x");
        Assert.Equal(values, x.data<float>().ToArray());
    }

    [Fact]
    public void EmptyTensorAndNonContiguousInputRoundTrip()
    {
        var path = Path.Combine(Fixtures.TempFolder(), "e.safetensors");
        using var empty = torch.zeros(0, 5);
        using var baseT = torch.arange(12, dtype: torch.float32).reshape(3, 4);
        using var transposed = baseT.t();
        SafetensorsWriter.Write(path, new Dictionary<string, torch.Tensor> { ["empty"] = empty, ["t"] = transposed });
        using var f = SafetensorsFile.Open(path);
        using var e = f.Load("empty");
        Assert.Equal(new long[] { 0, 5 }, e.shape);
        using var t = f.Load("t");
        TensorAssert.Equal(transposed.contiguous(), t, "transposed");
    }

    [Fact]
    public void WriterIsAtomicAndRejectsDuplicates()
    {
        var path = Path.Combine(Fixtures.TempFolder(), "d.safetensors");
        using var a = torch.ones(2);
        var pairs = new[] { new KeyValuePair<string, torch.Tensor>("a", a), new KeyValuePair<string, torch.Tensor>("a", a) };
        var ex = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, pairs));
        Assert.Contains("duplicate tensor name 'a'", ex.Message);
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void GoldenWeightFilesParseWithValidHeaders()
    {
        foreach (var (folder, file) in new[] { ("clip_vision", "model.safetensors"), ("unet", "diffusion_pytorch_model.safetensors"), ("movq", "diffusion_pytorch_model.safetensors") })
        {
            using var f = SafetensorsFile.Open(Path.Combine(Fixtures.Golden(folder), file));
            Assert.NotEmpty(f.Tensors);
            Assert.All(f.Tensors, t => Assert.Equal("F32", t.DType));
            using var first = f.Load(f.Tensors[0].Name);
            Assert.Equal(f.Tensors[0].Shape, first.shape);
        }
    }
}
