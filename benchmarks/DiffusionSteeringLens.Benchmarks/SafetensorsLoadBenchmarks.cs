using DiffusionSteeringLens.Runtime;
using BenchmarkDotNet.Attributes;
using DiffusionSteeringLens.IO;
using TorchSharp;

namespace DiffusionSteeringLens.Benchmarks;

/// <summary>Memory-mapped tensor access vs a full read, on a 256 MB float32 file.</summary>
[MemoryDiagnoser]
public class SafetensorsLoadBenchmarks
{
    private string _path = "";

    /// <summary>Writes the file once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        TorchNativeLoader.EnsureLoaded(); // each benchmark runs in its own generated process
        TorchNativeLoader.EnableMemoryReuse();
        _path = Path.Combine(Path.GetTempPath(), "dsl-bench-256mb.safetensors");
        using var big = torch.zeros(64, 1024, 1024);
        SafetensorsWriter.Write(_path, new Dictionary<string, torch.Tensor> { ["w"] = big });
    }

    /// <summary>Open + map + sum one row (touches one page range).</summary>
    [Benchmark]
    public float MappedRowSum()
    {
        using var f = SafetensorsFile.Open(_path);
        using var w = f.Load("w");
        using var row = w[0, 0];
        using var s = row.sum();
        return s.item<float>();
    }

    /// <summary>Open + convert the whole tensor to float64 (forces a full read).</summary>
    [Benchmark]
    public long FullConvert()
    {
        using var f = SafetensorsFile.Open(_path);
        using var w = f.Load("w", torch.ScalarType.Float64);
        return w.numel();
    }

    /// <summary>Removes the file.</summary>
    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);
}
