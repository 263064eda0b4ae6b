using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Kandinsky.Schedulers;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.IO;

public sealed class ConfigReadingTests
{
    private static string WriteJson(string json, string name = "config.json")
    {
        var path = Path.Combine(Fixtures.TempFolder(), name);
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void GoldenClipConfigReadsEveryField()
    {
        var c = ClipVisionConfig.Load(Fixtures.Golden("clip_vision"));
        Assert.Equal((32, 37, 24, 2, 4, 16, 4, "gelu"), (c.HiddenSize, c.IntermediateSize, c.ProjectionDim, c.NumHiddenLayers, c.NumAttentionHeads, c.ImageSize, c.PatchSize, c.HiddenAct));
        Assert.Equal(17, c.NumPositions);
        Assert.Equal(8, c.HeadDim);
    }

    [Fact]
    public void BigGConfigFromManifest()
    {
        var c = ClipVisionConfig.Load(Path.Combine(Fixtures.Golden("manifests"), "clip_vision_bigG.config.json"));
        Assert.Equal((1664, 8192, 1280, 48, 16, 104, 257), (c.HiddenSize, c.IntermediateSize, c.ProjectionDim, c.NumHiddenLayers, c.NumAttentionHeads, c.HeadDim, c.NumPositions));
    }

    [Fact]
    public void MissingKeysTakeTransformersDefaultsAndUnknownKeysAreTolerated()
    {
        var c = ClipVisionConfig.Load(WriteJson("{\"model_type\":\"clip_vision_model\",\"some_future_key\":{\"x\":1},\"hidden_size\":64,\"num_attention_heads\":4}"));
        Assert.Equal(64, c.HiddenSize);
        Assert.Equal("quick_gelu", c.HiddenAct);
        Assert.Equal(32, c.PatchSize);
        Assert.Equal(12, c.NumHiddenLayers);
    }

    [Fact]
    public void FullClipConfigUsesNestedVisionConfig()
    {
        var c = ClipVisionConfig.Load(WriteJson("{\"model_type\":\"clip\",\"projection_dim\":77,\"vision_config\":{\"hidden_size\":48,\"num_attention_heads\":6,\"hidden_act\":\"gelu\"}}"));
        Assert.Equal((48, 6, 77, "gelu"), (c.HiddenSize, c.NumAttentionHeads, c.ProjectionDim, c.HiddenAct));
    }

    [Theory]
    [InlineData("{\"hidden_size\":\"big\"}", "hidden_size", "expected an integer")]
    [InlineData("{\"hidden_size\":-5}", "hidden_size", "must be >= 1")]
    [InlineData("{\"hidden_act\":\"swish9\"}", "hidden_act", "not supported")]
    [InlineData("{\"hidden_size\":30,\"num_attention_heads\":4}", "num_attention_heads", "not divisible")]
    [InlineData("{\"layer_norm_eps\":true}", "layer_norm_eps", "expected a number")]
    public void BadClipValuesNameFileAndKey(string json, string key, string fragment)
    {
        var path = WriteJson(json);
        var ex = Assert.Throws<ConfigException>(() => ClipVisionConfig.Load(path));
        Assert.Equal(key, ex.Key);
        Assert.Contains(path, ex.Message);
        Assert.Contains(fragment, ex.Message);
    }

    [Fact]
    public void MalformedJsonIsAConfigException()
    {
        var path = WriteJson("{\"hidden_size\": 3");
        var ex = Assert.Throws<ConfigException>(() => ClipVisionConfig.Load(path));
        Assert.Null(ex.Key);
        Assert.Contains("not well-formed JSON", ex.Message);
    }

    [Fact]
    public void GoldenProcessorConfig()
    {
        var p = ClipImageProcessorConfig.Load(Fixtures.Golden("clip_vision"));
        Assert.Equal((16, 16, 16, 3), (p.ShortestEdge, p.CropHeight, p.CropWidth, p.Resample));
        Assert.Equal(0.48145466, p.ImageMean[0], 10);
        Assert.Equal(1.0 / 255, p.RescaleFactor, 12);
    }

    [Fact]
    public void ProcessorIntegerSizesAndBadStd()
    {
        var p = ClipImageProcessorConfig.Load(WriteJson("{\"size\":224,\"crop_size\":200}", "preprocessor_config.json"));
        Assert.Equal((224, 200, 200), (p.ShortestEdge, p.CropHeight, p.CropWidth));
        var ex = Assert.Throws<ConfigException>(() => ClipImageProcessorConfig.Load(WriteJson("{\"image_std\":[0.2,0,0.3]}", "preprocessor_config.json")));
        Assert.Equal("image_std", ex.Key);
    }

    [Fact]
    public void GoldenSchedulerConfigsAndDefaults()
    {
        var s = DdpmSchedulerConfig.Load(Fixtures.Golden("scheduler"));
        Assert.Equal(("linear", "fixed_small", false, 1, "leading"), (s.BetaSchedule, s.VarianceType, s.ClipSample, s.StepsOffset, s.TimestepSpacing));
        Assert.Equal(0.00085, s.BetaStart, 12);
        var lr = DdpmSchedulerConfig.Load(Path.Combine(Fixtures.Golden("scheduler"), "scheduler_config_learned_range.json"));
        Assert.Equal("learned_range", lr.VarianceType);
        var d = DdpmSchedulerConfig.Load(WriteJson("{}", "scheduler_config.json"));
        Assert.True(d.ClipSample); // diffusers' default, read from the file when present
        Assert.Equal(0, d.StepsOffset);
    }

    [Theory]
    [InlineData("{\"beta_schedule\":\"cosine9\"}", "beta_schedule")]
    [InlineData("{\"num_train_timesteps\":0}", "num_train_timesteps")]
    [InlineData("{\"_class_name\":\"DDIMScheduler\"}", "_class_name")]
    [InlineData("{\"clip_sample\":\"yes\"}", "clip_sample")]
    public void BadSchedulerValuesNameTheKey(string json, string key)
    {
        var ex = Assert.Throws<ConfigException>(() => DdpmSchedulerConfig.Load(WriteJson(json, "scheduler_config.json")));
        Assert.Equal(key, ex.Key);
    }
}
