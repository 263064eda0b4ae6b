namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>
/// The block types this UNet implements: the one table that <see cref="UNet2DConditionConfig"/> validates
/// <c>down_block_types</c>, <c>mid_block_type</c> and <c>up_block_types</c> against and
/// <see cref="UNet2DConditionModel"/> builds its blocks from.
/// </summary>
internal static class UNetBlockTypes
{
    /// <summary>Down-block types.</summary>
    public static readonly IReadOnlyList<UNetBlockType<UNetDownBlock>> Down = new UNetBlockType<UNetDownBlock>[]
    {
        new("ResnetDownsampleBlock2D", HasAttention: false,
            l => new ResnetDownsampleBlock2D(l.InChannels, l.OutChannels, l.Layers, l.Resample, l.Resnet, l.Path, l.Runtime)),
        new("SimpleCrossAttnDownBlock2D", HasAttention: true,
            l => new SimpleCrossAttnDownBlock2D(l.InChannels, l.OutChannels, l.Layers, l.Resample, l.AttentionHeadDim, l.CrossAttentionDim,
                l.OnlyCrossAttention, l.Resnet, l.Path, l.Runtime)),
    };

    /// <summary>Up-block types.</summary>
    public static readonly IReadOnlyList<UNetBlockType<UNetUpBlock>> Up = new UNetBlockType<UNetUpBlock>[]
    {
        new("ResnetUpsampleBlock2D", HasAttention: false,
            l => new ResnetUpsampleBlock2D(l.InChannels, l.PrevOutputChannels, l.OutChannels, l.Layers, l.Resample, l.Resnet, l.Path, l.Runtime)),
        new("SimpleCrossAttnUpBlock2D", HasAttention: true,
            l => new SimpleCrossAttnUpBlock2D(l.InChannels, l.PrevOutputChannels, l.OutChannels, l.Layers, l.Resample, l.AttentionHeadDim,
                l.CrossAttentionDim, l.OnlyCrossAttention, l.Resnet, l.Path, l.Runtime)),
    };

    /// <summary>The one mid-block type (<see cref="UNetMidBlock2DSimpleCrossAttn"/>, always with attention).</summary>
    public const string Mid = "UNetMidBlock2DSimpleCrossAttn";

    /// <summary>The entry named <paramref name="name"/>, or null when the type is not implemented.</summary>
    public static UNetBlockType<TBlock>? Find<TBlock>(IReadOnlyList<UNetBlockType<TBlock>> table, string name) =>
        table.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.Ordinal));
}
