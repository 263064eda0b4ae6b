namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>One supported block type: its diffusers name, whether its levels have attention, and how to build it.</summary>
/// <typeparam name="TBlock">The block kind (<see cref="UNetDownBlock"/> or <see cref="UNetUpBlock"/>).</typeparam>
/// <param name="Name">The <c>down_block_types</c> / <c>up_block_types</c> entry.</param>
/// <param name="HasAttention">Each resnet is followed by an attention (its channels must divide by the head size).</param>
/// <param name="Create">Builds the block for one level.</param>
internal sealed record UNetBlockType<TBlock>(string Name, bool HasAttention, Func<UNetLevel, TBlock> Create);
