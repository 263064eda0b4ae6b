using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.IO;

public sealed class ShardedSafetensorsTests
{
    private static string WriteShards(out torch.Tensor a, out torch.Tensor b, string indexJson)
    {
        var dir = Fixtures.TempFolder();
        a = torch.arange(6, dtype: torch.float32).reshape(2, 3);
        b = torch.arange(4, dtype: torch.int64);
        SafetensorsWriter.Write(Path.Combine(dir, "model-00001-of-00002.safetensors"), new Dictionary<string, torch.Tensor> { ["a"] = a });
        SafetensorsWriter.Write(Path.Combine(dir, "model-00002-of-00002.safetensors"), new Dictionary<string, torch.Tensor> { ["b"] = b });
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), indexJson);
        return dir;
    }

    [Fact]
    public void LocatorOpensShardedCheckpointAndLoadsEveryTensor()
    {
        var dir = WriteShards(out var a, out var b,
            "{\"metadata\":{\"total_size\":56},\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}}");
        using (a) using (b)
        using (var source = CheckpointLocator.Open(dir, "model"))
        {
            Assert.IsType<ShardedSafetensors>(source);
            Assert.Equal(new[] { "a", "b" }, source.Names.OrderBy(n => n));
            using var la = source.Load("a");
            using var lb = source.Load("b");
            TensorAssert.Equal(a, la, "a");
            TensorAssert.Equal(b, lb, "b");
        }
    }

    [Fact]
    public void IndexNamingAMissingShardIsAnError()
    {
        var dir = WriteShards(out var a, out var b, "{\"weight_map\":{\"a\":\"model-00009.safetensors\"}}");
        a.Dispose(); b.Dispose();
        var ex = Assert.Throws<SafetensorsFormatException>(() => CheckpointLocator.Open(dir, "model").Dispose());
        Assert.Contains("model-00009.safetensors", ex.Message);
    }

    [Fact]
    public void IndexMappingATensorToTheWrongShardIsAnError()
    {
        var dir = WriteShards(out var a, out var b, "{\"weight_map\":{\"a\":\"model-00002-of-00002.safetensors\"}}");
        a.Dispose(); b.Dispose();
        var ex = Assert.Throws<SafetensorsFormatException>(() => CheckpointLocator.Open(dir, "model").Dispose());
        Assert.Contains("tensor 'a'", ex.Message);
    }

    [Fact]
    public void IndexWithoutWeightMapIsAnError()
    {
        var dir = WriteShards(out var a, out var b, "{\"metadata\":{}}");
        a.Dispose(); b.Dispose();
        Assert.Contains("weight_map", Assert.Throws<SafetensorsFormatException>(() => CheckpointLocator.Open(dir, "model").Dispose()).Message);
    }
}
