using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Vit;
using DiffusionSteeringLens.Models.Vit.Dinov2;
using DiffusionSteeringLens.Models.Vit.ViT;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Vit;

/// <summary>Strict loading, config validation, input validation and the SwiGLU variant of the ViT and DINOv2 families.</summary>
public sealed class FamilyLoadingTests
{
    private static HookedVitModel LoadFrom(string family, string dir) => family == "vit"
        ? ViTForImageClassification.FromPretrained(dir)
        : Dinov2Model.FromPretrained(dir);

    private static string GoldenFolder(string family) => family == "vit" ? FamilyGolden.VitFolder : FamilyGolden.Dinov2Folder;

    /// <summary>A copy of a golden folder whose checkpoint lost one key, gained one and has one of the wrong shape.</summary>
    private static string BrokenCopy(string family, string dropped, string reshaped)
    {
        var dir = Fixtures.TempFolder();
        File.Copy(Path.Combine(GoldenFolder(family), "config.json"), Path.Combine(dir, "config.json"));
        using var scope = torch.NewDisposeScope();
        using var source = SafetensorsFile.Open(Path.Combine(GoldenFolder(family), "model.safetensors"));
        var tensors = new Dictionary<string, torch.Tensor>(StringComparer.Ordinal);
        foreach (var name in source.Names)
        {
            if (name == dropped) continue;
            var t = source.Load(name);
            tensors[name] = name == reshaped ? t.narrow(0, 0, t.shape[0] - 1).contiguous() : t;
        }
        tensors["pooler.dense.weight"] = torch.zeros(2, 2);
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors);
        return dir;
    }

    [Theory]
    [InlineData("vit", "vit.encoder.layer.1.attention.attention.key.bias", "classifier.weight")]
    [InlineData("dinov2", "encoder.layer.0.layer_scale2.lambda1", "encoder.layer.1.mlp.fc1.weight")]
    public void EveryMissingUnexpectedAndMisShapedKeyIsNamed(string family, string dropped, string reshaped)
    {
        var dir = BrokenCopy(family, dropped, reshaped);
        var e = Assert.Throws<StateDictMismatchException>(() => LoadFrom(family, dir).Dispose());
        Assert.Contains(dropped, e.Missing.Single());
        Assert.Equal("pooler.dense.weight", e.Unexpected.Single());
        Assert.Contains(reshaped, e.ShapeMismatches.Single());
        Assert.Contains(dir, e.Message);
    }

    [Theory]
    [InlineData("vit", "\"hidden_act\": \"gelu\"", "\"hidden_act\": \"mish\"", "hidden_act")]
    [InlineData("vit", "\"num_attention_heads\": 4", "\"num_attention_heads\": 5", "num_attention_heads")]
    [InlineData("vit", "\"LABEL_4\"\n", "\"LABEL_4\",\n    \"7\": \"LABEL_7\"\n", "id2label")]
    [InlineData("dinov2", "\"patch_size\": 4", "\"patch_size\": 3", "patch_size")]
    [InlineData("dinov2", "\"use_swiglu_ffn\": false", "\"use_swiglu_ffn\": \"yes\"", "use_swiglu_ffn")]
    public void BadConfigThrowsConfigExceptionNamingTheKey(string family, string from, string to, string key)
    {
        var dir = Fixtures.TempFolder();
        File.Copy(Path.Combine(GoldenFolder(family), "model.safetensors"), Path.Combine(dir, "model.safetensors"));
        var json = File.ReadAllText(Path.Combine(GoldenFolder(family), "config.json"));
        Assert.Contains(from, json);
        File.WriteAllText(Path.Combine(dir, "config.json"), json.Replace(from, to));
        var e = Assert.Throws<ConfigException>(() => LoadFrom(family, dir).Dispose());
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void VitLabelsComeFromId2Label()
    {
        using var vit = FamilyGolden.LoadVit();
        Assert.Equal(new[] { "LABEL_0", "LABEL_1", "LABEL_2", "LABEL_3", "LABEL_4" }, vit.Labels);
        Assert.Equal(5, vit.Architecture.OutputDim);
        Assert.Equal("vit", vit.Architecture.Family);
    }

    [Fact]
    public void Dinov2RunsAtItsTrainedSizeAndRejectsOthers()
    {
        using var scope = torch.NewDisposeScope();
        using var trained = Dinov2Model.FromPretrained(FamilyGolden.Dinov2Folder);
        Assert.Equal(16, trained.Architecture.ImageSize);
        Assert.Equal(17, trained.Architecture.NumTokens);
        using var pixels20 = FamilyGolden.Pixels(FamilyGolden.Dinov2Folder);
        var e = Assert.Throws<ArgumentException>(() => trained.Forward(pixels20));
        Assert.Contains("[B, 3, 16, 16]", e.Message);
        // At the trained size no interpolation happens: the stored table is added as is.
        using var run = trained.RunWithCache(torch.zeros(1, 3, 16, 16), CacheRequest.ForNames(new[] { HookNames.PosEmbed }));
        TensorAssert.Equal(FamilyGolden.Weight(FamilyGolden.Dinov2Folder, "embeddings.position_embeddings"), run.Cache[HookNames.PosEmbed], "position table at 16px");
        Assert.Throws<ArgumentException>(() => Dinov2Model.FromPretrained(FamilyGolden.Dinov2Folder, inputSize: 18).Dispose());
    }

    [Fact]
    public void SwiGluVariantHasTransformersKeysAndGatesTheFirstHalf()
    {
        using var scope = torch.NewDisposeScope();
        var config = Dinov2Config.Load(FamilyGolden.Dinov2Folder) with { UseSwiGluFfn = true };
        // hidden 32 · mlp_ratio 4 = 128 → (int(128·2/3) + 7) // 8 · 8 = 88.
        Assert.Equal(88, config.MlpHiddenSize);
        using var meta = new Dinov2Model(config, torch.META);
        var keys = meta.state_dict();
        Assert.Equal(new long[] { 176, 32 }, keys["encoder.layer.0.mlp.weights_in.weight"].shape);
        Assert.Equal(new long[] { 32, 88 }, keys["encoder.layer.0.mlp.weights_out.weight"].shape);
        Assert.DoesNotContain(keys.Keys, k => k.Contains(".mlp.fc1", StringComparison.Ordinal));

        torch.manual_seed(11);
        using var model = new Dinov2Model(config);
        foreach (var p in model.parameters()) using (torch.no_grad()) p.normal_(0, 0.3);
        using var run = model.RunWithCache(torch.randn(2, 3, 16, 16), CacheRequest.ForNames(new[] { HookNames.MlpPre(1), HookNames.MlpPost(1) }));
        var pre = run.Cache[HookNames.MlpPre(1)];
        var expected = torch.nn.functional.silu(pre.narrow(-1, 0, 88)) * pre.narrow(-1, 88, 88);
        TensorAssert.CloseScaled(expected, run.Cache[HookNames.MlpPost(1)], 1e-6, "SwiGLU gate");
    }

    [Fact]
    public void ZeroImageEmbeddingWorksForAnyFamilyThroughTheExtension()
    {
        using var scope = torch.NewDisposeScope();
        using var vit = FamilyGolden.LoadVit();
        IHookedVit encoder = vit;
        var zero = encoder.ZeroImageEmbedding();
        Assert.Equal(new long[] { 1, 5 }, zero.shape);
        TensorAssert.Equal(vit.Forward(torch.zeros(1, 3, 16, 16)), zero, "zero-image logits");
    }
}
