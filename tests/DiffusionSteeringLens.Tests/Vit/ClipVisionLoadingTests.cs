using System.Text.Json;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Runtime;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Vit;

/// <summary>Checkpoint variants load to the same model: fp16 (upcast), sharded, with the legacy position_ids buffer.</summary>
public sealed class ClipVisionLoadingTests : IDisposable
{
    private readonly List<string> _folders = new();

    private string NewFolder()
    {
        var dir = Fixtures.TempFolder();
        _folders.Add(dir);
        return dir;
    }

    /// <summary>Removes the temporary model folders.</summary>
    public void Dispose()
    {
        foreach (var d in _folders)
            try { Directory.Delete(d, recursive: true); } catch (IOException) { }
    }

    private static Dictionary<string, torch.Tensor> GoldenWeights()
    {
        using var f = SafetensorsFile.Open(Path.Combine(GoldenClip.Folder, "model.safetensors"));
        return f.Names.ToDictionary(n => n, n => f.Load(n));
    }

    private string FolderWith(Action<string> writeWeights)
    {
        var dir = NewFolder();
        File.Copy(Path.Combine(GoldenClip.Folder, "config.json"), Path.Combine(dir, "config.json"));
        writeWeights(dir);
        return dir;
    }

    [Fact]
    public void Fp16CheckpointUpcastsToFloat32()
    {
        var weights = GoldenWeights();
        var dir = FolderWith(d => SafetensorsWriter.Write(Path.Combine(d, "model.safetensors"),
            weights.ToDictionary(kv => kv.Key, kv => kv.Value.to(torch.float16))));
        using var model = ClipVisionModelWithProjection.FromPretrained(dir);
        using var reference = GoldenClip.Load();
        Assert.Equal(torch.ScalarType.Float32, model.DType);
        Assert.Equal(torch.ScalarType.Float32, model.VisualProjectionWeight.dtype);
        using var x = GoldenClip.Pixels();
        using var got = model.Forward(x);
        using var want = reference.Forward(x);
        // fp16 rounding of the weights (rel 2^-11) is the only difference.
        TensorAssert.CloseScaled(want, got, 1e-2, "fp16 weights");
        foreach (var v in weights.Values) v.Dispose();
    }

    [Fact]
    public void ShardedCheckpointWithLegacyPositionIdsLoads()
    {
        var weights = GoldenWeights();
        var names = weights.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        var dir = FolderWith(d =>
        {
            var first = names.Take(names.Count / 2).ToList();
            var second = names.Skip(names.Count / 2).ToList();
            SafetensorsWriter.Write(Path.Combine(d, "model-00001-of-00002.safetensors"), first.ToDictionary(n => n, n => weights[n]));
            using var ids = torch.arange(17, dtype: torch.int64).unsqueeze(0);
            var shard2 = second.ToDictionary(n => n, n => weights[n]);
            shard2["vision_model.embeddings.position_ids"] = ids;
            SafetensorsWriter.Write(Path.Combine(d, "model-00002-of-00002.safetensors"), shard2);
            var map = first.ToDictionary(n => n, _ => "model-00001-of-00002.safetensors");
            foreach (var n in shard2.Keys) map[n] = "model-00002-of-00002.safetensors";
            File.WriteAllText(Path.Combine(d, "model.safetensors.index.json"),
                JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = map }));
        });
        using var model = ClipVisionModelWithProjection.FromPretrained(dir, new ModelLoadOptions());
        using var reference = GoldenClip.Load();
        using var x = GoldenClip.Pixels();
        using var got = model.Forward(x);
        using var want = reference.Forward(x);
        TensorAssert.Equal(want, got, "sharded");
        foreach (var v in weights.Values) v.Dispose();
    }

    [Fact]
    public void Float64ComputeMatchesGolden()
    {
        using var model = ClipVisionModelWithProjection.FromPretrained(GoldenClip.Folder, new ModelLoadOptions { DType = torch.ScalarType.Float64 });
        using var cases = SafetensorsFile.Open(Path.Combine(GoldenClip.Folder, "cases.safetensors"));
        using var x = cases.Load("pixel_values");
        using var got = model.Forward(x);
        Assert.Equal(torch.ScalarType.Float64, got.dtype);
        using var want = cases.Load("image_embeds");
        TensorAssert.CloseScaled(want, got, 1e-4, "float64 image_embeds");
    }
}
