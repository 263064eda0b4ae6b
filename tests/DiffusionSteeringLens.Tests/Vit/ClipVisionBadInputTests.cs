using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Vit;

/// <summary>Bad pixels, mismatched checkpoints and bad configs fail with precise exceptions.</summary>
public sealed class ClipVisionBadInputTests : IDisposable
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

    [Theory]
    [InlineData(new long[] { 3, 16, 16 })]
    [InlineData(new long[] { 1, 3, 16, 17 })]
    [InlineData(new long[] { 2, 1, 16, 16 })]
    [InlineData(new long[] { 1, 3, 32, 32 })]
    public void WrongPixelShapeNamesTheShape(long[] shape)
    {
        using var model = GoldenClip.Load();
        using var x = torch.zeros(shape);
        var e = Assert.Throws<ArgumentException>(() => model.Forward(x));
        Assert.Contains("[" + string.Join(", ", shape) + "]", e.Message);
        Assert.Throws<ArgumentException>(() => model.RunWithCache(x, CacheRequest.All).Dispose());
        Assert.Throws<ArgumentException>(() => model.RunWithHooks(x, Array.Empty<HookBinding>()).Dispose());
    }

    [Fact]
    public void UnknownHookNameIsRejected()
    {
        using var model = GoldenClip.Load();
        using var x = GoldenClip.Pixels();
        var e = Assert.Throws<ArgumentException>(() =>
            model.RunWithHooks(x, new[] { new HookBinding("blocks.9.hook_resid_pre", (t, _) => t) }).Dispose());
        Assert.Contains("blocks.9.hook_resid_pre", e.Message);
    }

    [Fact]
    public void CachePositionOutOfRangeIsRejected()
    {
        using var model = GoldenClip.Load();
        using var x = GoldenClip.Pixels();
        Assert.Throws<ArgumentOutOfRangeException>(() => model.RunWithCache(x, new CacheRequest { Positions = new[] { 17 } }).Dispose());
    }

    [Fact]
    public void MismatchedCheckpointThrowsStateDictMismatch()
    {
        var dir = NewFolder();
        File.Copy(Path.Combine(GoldenClip.Folder, "model.safetensors"), Path.Combine(dir, "model.safetensors"));
        // Same weights, config claiming one more layer: layers.2.* are missing.
        var json = File.ReadAllText(Path.Combine(GoldenClip.Folder, "config.json"))
            .Replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3");
        File.WriteAllText(Path.Combine(dir, "config.json"), json);
        var e = Assert.Throws<StateDictMismatchException>(() => ClipVisionModelWithProjection.FromPretrained(dir).Dispose());
        Assert.Contains("encoder.layers.2", e.Message);
    }

    [Fact]
    public void WrongWidthCheckpointThrowsStateDictMismatch()
    {
        var dir = NewFolder();
        File.Copy(Path.Combine(GoldenClip.Folder, "model.safetensors"), Path.Combine(dir, "model.safetensors"));
        var json = File.ReadAllText(Path.Combine(GoldenClip.Folder, "config.json"))
            .Replace("\"projection_dim\": 24", "\"projection_dim\": 25");
        File.WriteAllText(Path.Combine(dir, "config.json"), json);
        var e = Assert.Throws<StateDictMismatchException>(() => ClipVisionModelWithProjection.FromPretrained(dir).Dispose());
        Assert.Contains("visual_projection.weight", e.Message);
    }

    [Theory]
    [InlineData("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"swish\"", "hidden_act")]
    [InlineData("\"num_attention_heads\": 4", "\"num_attention_heads\": 5", "num_attention_heads")]
    [InlineData("\"hidden_size\": 32", "\"hidden_size\": \"big\"", "hidden_size")]
    public void BadConfigThrowsConfigException(string from, string to, string key)
    {
        var dir = NewFolder();
        File.Copy(Path.Combine(GoldenClip.Folder, "model.safetensors"), Path.Combine(dir, "model.safetensors"));
        var json = File.ReadAllText(Path.Combine(GoldenClip.Folder, "config.json"));
        Assert.Contains(from, json);
        File.WriteAllText(Path.Combine(dir, "config.json"), json.Replace(from, to));
        var e = Assert.Throws<ConfigException>(() => ClipVisionModelWithProjection.FromPretrained(dir).Dispose());
        Assert.Contains(key, e.Message);
    }
}
