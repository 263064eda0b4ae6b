using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Kandinsky.MoVq;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Kandinsky.MoVq;

/// <summary>MoVQ loading: legacy attention key names, config validation.</summary>
public sealed class VqModelLoadingTests
{
    [Theory]
    [InlineData("decoder.mid_block.attentions.0.query.weight", "decoder.mid_block.attentions.0.to_q.weight")]
    [InlineData("encoder.down_blocks.1.attentions.0.key.bias", "encoder.down_blocks.1.attentions.0.to_k.bias")]
    [InlineData("decoder.up_blocks.0.attentions.2.value.weight", "decoder.up_blocks.0.attentions.2.to_v.weight")]
    [InlineData("decoder.up_blocks.0.attentions.1.proj_attn.bias", "decoder.up_blocks.0.attentions.1.to_out.0.bias")]
    [InlineData("decoder.up_blocks.0.resnets.1.conv1.weight", "decoder.up_blocks.0.resnets.1.conv1.weight")]
    public void Legacy_attention_keys_are_renamed(string legacy, string current) =>
        Assert.Equal(current, VqModel.RenameLegacyKey(legacy));

    [Fact]
    public void Checkpoint_with_legacy_attention_names_loads_and_decodes_the_same()
    {
        var golden = Fixtures.Golden("movq");
        var dir = Fixtures.TempFolder();
        File.Copy(Path.Combine(golden, "config.json"), Path.Combine(dir, "config.json"));
        var legacyName = new Dictionary<string, string> { ["to_q"] = "query", ["to_k"] = "key", ["to_v"] = "value", ["to_out.0"] = "proj_attn" };
        using (var source = SafetensorsFile.Open(Path.Combine(golden, "diffusion_pytorch_model.safetensors")))
        {
            var tensors = new Dictionary<string, torch.Tensor>(StringComparer.Ordinal);
            foreach (var name in source.Names)
            {
                var renamed = name;
                foreach (var (now, old) in legacyName)
                    renamed = renamed.Replace($".{now}.", $".{old}.", StringComparison.Ordinal);
                tensors[renamed] = source.Load(name);
            }
            Assert.Contains(tensors.Keys, k => k.Contains(".proj_attn.", StringComparison.Ordinal));
            SafetensorsWriter.Write(Path.Combine(dir, "diffusion_pytorch_model.safetensors"), tensors);
            foreach (var t in tensors.Values) t.Dispose();
        }
        using var current = VqModel.FromPretrained(golden);
        using var legacy = VqModel.FromPretrained(dir);
        using var cases = SafetensorsFile.Open(Path.Combine(golden, "cases.safetensors"));
        using var latents = cases.Load("decode.latents");
        using var a = current.Decode(latents);
        using var b = legacy.Decode(latents);
        TensorAssert.Equal(a, b, "legacy-named checkpoint decode");
    }

    [Fact]
    public void Unsupported_config_value_names_file_and_key()
    {
        var dir = Fixtures.TempFolder();
        var text = File.ReadAllText(Path.Combine(Fixtures.Golden("movq"), "config.json"))
            .Replace("\"norm_type\": \"spatial\"", "\"norm_type\": \"layer\"", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(dir, "config.json"), text);
        var e = Assert.Throws<ConfigException>(() => VqModelConfig.Load(dir));
        Assert.Equal("norm_type", e.Key);
        Assert.Contains("config.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_block_type_names_the_entry()
    {
        var dir = Fixtures.TempFolder();
        var text = File.ReadAllText(Path.Combine(Fixtures.Golden("movq"), "config.json"))
            .Replace("\"AttnUpDecoderBlock2D\"", "\"CrossAttnUpBlock2D\"", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(dir, "config.json"), text);
        var e = Assert.Throws<ConfigException>(() => VqModel.FromPretrained(dir));
        Assert.Equal("up_block_types[0]", e.Key);
    }
}
