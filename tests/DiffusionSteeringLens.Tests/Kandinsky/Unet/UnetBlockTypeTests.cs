using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Kandinsky.Unet;

/// <summary>The one block-type table: what the config accepts is exactly what the model builds, with attention as the table says.</summary>
public sealed class UnetBlockTypeTests
{
    /// <summary>Every (down, up) pair of table entries validates and builds; attention hook points exist exactly for the attention types.</summary>
    [Fact]
    public void EveryTableEntryIsAcceptedAndBuiltAsDeclared()
    {
        var golden = UNet2DConditionConfig.Load(Fixtures.Golden("unet"));
        Assert.Equal(UNetBlockTypes.Down.Select(t => t.Name), UNet2DConditionConfig.SupportedDownBlockTypes);
        Assert.Equal(UNetBlockTypes.Up.Select(t => t.Name), UNet2DConditionConfig.SupportedUpBlockTypes);
        foreach (var down in UNetBlockTypes.Down)
            foreach (var up in UNetBlockTypes.Up)
            {
                var config = golden with { DownBlockTypes = new[] { down.Name, down.Name }, UpBlockTypes = new[] { up.Name, up.Name } };
                config.Validate();
                using var model = new UNet2DConditionModel(config, torch.META);
                Assert.Equal(down.HasAttention, model.HookPointNames.Contains("down_blocks.0.attentions.0"));
                Assert.Equal(up.HasAttention, model.HookPointNames.Contains("up_blocks.1.attentions.0"));
                Assert.Contains("down_blocks.0.downsamplers.0", model.HookPointNames);
                Assert.Contains("up_blocks.0.upsamplers.0", model.HookPointNames);
            }
    }

    /// <summary>A type outside the table is refused by the config with the table's names.</summary>
    [Fact]
    public void TypeOutsideTableIsRefusedNamingTheSupportedOnes()
    {
        var golden = UNet2DConditionConfig.Load(Fixtures.Golden("unet"));
        var config = golden with { DownBlockTypes = new[] { "CrossAttnDownBlock2D", golden.DownBlockTypes[1] } };
        var error = Assert.Throws<ArgumentException>(config.Validate);
        Assert.Contains("down_block_types[0]", error.Message, StringComparison.Ordinal);
        foreach (var name in UNetBlockTypes.Down.Select(t => t.Name)) Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }
}
