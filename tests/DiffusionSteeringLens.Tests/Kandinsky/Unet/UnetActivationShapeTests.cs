using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Kandinsky.Unet;

/// <summary>
/// The forward pass of the real Kandinsky 2.2 architecture reports the same module outputs, in the same order and with
/// the same shapes, as the reference's hooks in <c>kandinsky22_unet_activation_shapes.txt</c>.
/// </summary>
/// <remarks>
/// libtorch has no meta kernel for group norm, so instead of a shape-only full-size run this uses the real config with
/// every width divided by 12 (384/768/1152/1536 → 32/64/96/128, cross-attention 768 → 64, time embedding 4 × 32 = 128):
/// same levels, block types, layers, skips and resolutions, a few MB of weights on CPU.
/// </remarks>
public sealed class UnetActivationShapeTests
{
    // The reference hooked modules; the hook points carry the same tensors under the fixtures' debug names.
    private static readonly Dictionary<string, string> Renames = new(StringComparer.Ordinal)
    {
        ["time_proj"] = "t_emb",
        ["add_embedding"] = "aug_emb",
        ["encoder_hid_proj"] = "encoder_hidden_states",
    };

    private static readonly Dictionary<long, long> Widths = new() { [384] = 32, [768] = 64, [1152] = 96, [1536] = 128 };

    /// <summary>Hook point names, firing order and shapes of a latent 64×64, batch-2 forward equal the reference's (widths scaled).</summary>
    [Fact]
    [Trait("Category", "Manifest")]
    public void ForwardReportsReferenceActivationsInOrder()
    {
        var folder = Fixtures.Golden("manifests");
        var real = UNet2DConditionConfig.Load(Path.Combine(folder, "kandinsky22_unet.config.json"));
        var config = real with
        {
            BlockOutChannels = real.BlockOutChannels.Select(c => (int)Widths[c]).ToArray(),
            AttentionHeadDim = real.AttentionHeadDim.Select(_ => 16).ToArray(),
            CrossAttentionDim = 64,
            EncoderHidDim = 40,
        };
        var expected = ReadExpected(Path.Combine(folder, "kandinsky22_unet_activation_shapes.txt"));

        using var scope = torch.NewDisposeScope();
        using var model = new UNet2DConditionModel(config);
        torch.manual_seed(11);
        var sample = torch.randn(2, 4, 64, 64);
        var image = torch.randn(2, 40);
        var timestep = torch.tensor(999L);
        var seen = new List<(string Name, string Shape)>();
        using (torch.no_grad())
        {
            var observe = model.HookPointNames.Select(n => new HookBinding(n, (t, name) =>
            {
                seen.Add((name, string.Join(",", t.shape)));
                return t;
            })).ToList();
            var output = model.RunWithHooks(sample, timestep, image, observe);
            Assert.Equal(new long[] { 2, 8, 64, 64 }, output.shape);
            Assert.False(output.isnan().any().item<bool>());
        }
        Assert.Equal(expected, seen);
    }

    // Channel widths shrink; batch (first dim), token count 32, spatial sizes and 4/8 I/O channels stay.
    private static long Scale(long d) => Widths.GetValueOrDefault(d, d);

    private static List<(string Name, string Shape)> ReadExpected(string path)
    {
        var list = new List<(string, string)>();
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith('#') || line.Length == 0) continue;
            var parts = line.Split('\t');
            var name = parts[0];
            // "down_blocks.i[1][j]" are the skip tuples: the same tensors as the resnet/attention/downsampler outputs.
            if (name.Contains("[1]", StringComparison.Ordinal)) continue;
            if (name.EndsWith("[0]", StringComparison.Ordinal)) name = name[..^3];
            var shape = parts[1].Split(',').Select((d, i) => i == 0 ? d : Scale(long.Parse(d, System.Globalization.CultureInfo.InvariantCulture)).ToString(System.Globalization.CultureInfo.InvariantCulture));
            list.Add((Renames.GetValueOrDefault(name, name), string.Join(",", shape)));
        }
        return list;
    }
}
