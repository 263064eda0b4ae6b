using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Kandinsky.MoVq;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Tests.Cli;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.IO;

/// <summary>
/// <see cref="RandomCheckpoint"/> / <c>dsl make-random</c> write the real checkpoints' key sets and shapes: checked against
/// the golden manifests on scaled-down configs (every width divided, every layer and block kept), so no test writes GBs.
/// </summary>
public sealed class RandomCheckpointTests
{
    public static IEnumerable<object[]> Models()
    {
        yield return new object[] { RandomCheckpointKind.ImageEncoder, "clip_vision_bigG", """{ "hidden_size": 32, "intermediate_size": 64, "projection_dim": 24 }""" };
        yield return new object[] { RandomCheckpointKind.Unet, "kandinsky22_unet", """{ "block_out_channels": [32, 64, 96, 128], "cross_attention_dim": 64, "attention_head_dim": 32 }""" };
        yield return new object[] { RandomCheckpointKind.MoVq, "kandinsky22_movq", """{ "block_out_channels": [32, 64, 64, 128] }""" };
    }

    // How each full-size width maps to the scaled config's (dimensions not listed are unchanged: kernels, channels in/out,
    // positions, the 1280-wide image embedding, the codebook size).
    private static long Scaled(RandomCheckpointKind kind, long d) => kind switch
    {
        RandomCheckpointKind.ImageEncoder => d switch { 1664 => 32, 8192 => 64, 1280 => 24, _ => d },
        RandomCheckpointKind.Unet => d >= 384 && d % 12 == 0 ? d / 12 : d,   // 384·k channels (and sums, 32 tokens × 768) → 32·k
        _ => d switch { 128 => 32, 256 => 64, 512 => 128, _ => d },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void ScaledDownFolderHasTheManifestsKeysAndShapesAndLoads(RandomCheckpointKind kind, string manifest, string overrides)
    {
        var dir = Fixtures.TempFolder();
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.Golden("manifests"), manifest + ".config.json")))!.AsObject();
        foreach (var (key, value) in JsonNode.Parse(overrides)!.AsObject()) config[key] = value?.DeepClone();
        var configPath = Path.Combine(dir, "scaled.config.json");
        File.WriteAllText(configPath, config.ToJsonString());
        var folder = Path.Combine(dir, "model");
        var (tensors, bytes) = RandomCheckpoint.Write(kind, configPath, folder, seed: 3);

        var expected = File.ReadAllLines(Path.Combine(Fixtures.Golden("manifests"), manifest + ".txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split('\t'))
            .ToDictionary(p => p[0], p => p[1].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).Select(d => Scaled(kind, d)).ToArray(), StringComparer.Ordinal);
        using var file = SafetensorsFile.Open(Path.Combine(folder, RandomCheckpoint.WeightsFileName(kind)));
        var missing = expected.Keys.Except(file.Names).ToList();
        var extra = file.Names.Except(expected.Keys).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0, $"missing: {string.Join(", ", missing.Take(10))}; extra: {string.Join(", ", extra.Take(10))}");
        var wrong = expected.Where(kv => !file.GetInfo(kv.Key).Shape.SequenceEqual(kv.Value))
            .Select(kv => $"{kv.Key}: {file.GetInfo(kv.Key).ShapeText} vs scaled manifest [{string.Join(", ", kv.Value)}]").ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong.Take(10)));
        var dtype = kind == RandomCheckpointKind.ImageEncoder ? "F16" : "F32";   // as the released checkpoints
        Assert.All(file.Names, n => Assert.Equal(dtype, file.GetInfo(n).DType));
        Assert.Equal(tensors, file.Names.Count);
        Assert.Equal(new FileInfo(Path.Combine(folder, RandomCheckpoint.WeightsFileName(kind))).Length - file.DataStart, bytes);

        // The folder loads strictly with the project's own loaders (every key, shape and dtype checked).
        using torch.nn.Module model = kind switch
        {
            RandomCheckpointKind.ImageEncoder => ClipVisionModelWithProjection.FromPretrained(folder),
            RandomCheckpointKind.Unet => UNet2DConditionModel.FromPretrained(folder),
            _ => VqModel.FromPretrained(folder),
        };
        Assert.Equal(expected.Count, model.state_dict().Count);
    }

    [Fact]
    public async Task MakeRandomIsSeededAndWritesALoadableEncoderFolder()
    {
        var dir = Fixtures.TempFolder();
        var config = Path.Combine(dir, "b.config.json");
        File.WriteAllText(config, """
            { "hidden_size": 16, "intermediate_size": 32, "num_attention_heads": 4, "num_hidden_layers": 2, "image_size": 32,
              "patch_size": 8, "projection_dim": 8, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05, "num_channels": 3 }
            """);
        string Hash(string folder) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, "model.safetensors"))));
        var a = Path.Combine(dir, "a");
        var b = Path.Combine(dir, "b");
        var c = Path.Combine(dir, "c");
        foreach (var (folder, seed) in new[] { (a, "1"), (b, "1"), (c, "2") })
        {
            var run = await CliRun.Public("make-random", "image_encoder", "--config", config, "--out", folder, "--seed", seed);
            Assert.True(run.ExitCode == 0, run.Error);
            Assert.Contains("model.safetensors", run.Out);
        }
        Assert.Equal(Hash(a), Hash(b));
        Assert.NotEqual(Hash(a), Hash(c));
        // A complete encoder folder: weights, config and image processor; `dsl perf load` reads it.
        var perf = await CliRun.Public("perf", "load", "--encoder", a);
        Assert.True(perf.ExitCode == 0, perf.Error);
        Assert.Contains("\"load_rss_ratio\"", perf.Out);
        Assert.Equal(32, ClipImageProcessor.Load(a).Config.CropHeight);
        (await CliRun.Public("make-random", "text_encoder", "--config", config, "--out", a)).AssertOneLineError(1, "text_encoder");
        (await CliRun.Public("make-random", "unet", "--config", Path.Combine(dir, "nope.json"), "--out", a)).AssertOneLineError(1, "nope.json");
    }

    [Fact]
    public void ShippedBenchmarkConfigsAreTheRealOnes()
    {
        var root = DiffusionSteeringLens.Tests.Docs.DocSnippetTests.RepositoryRoot();
        foreach (var name in new[] { "clip_vision_bigG", "kandinsky22_unet", "kandinsky22_movq" })
        {
            var shipped = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "benchmarks", "configs", name + ".config.json")));
            var golden = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.Golden("manifests"), name + ".config.json")));
            Assert.True(JsonNode.DeepEquals(golden, shipped), $"benchmarks/configs/{name}.config.json differs from the golden manifest's config");
        }
    }
}
