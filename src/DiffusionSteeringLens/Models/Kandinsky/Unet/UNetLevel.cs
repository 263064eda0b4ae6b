using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Kandinsky.Layers;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>What a block factory of <see cref="UNetBlockTypes"/> needs to build one down or up level.</summary>
/// <param name="InChannels">Down: input channels. Up: channels of the skip the last resnet consumes (the level below's output).</param>
/// <param name="PrevOutputChannels">Up: channels of the incoming hidden states (unused by down blocks).</param>
/// <param name="OutChannels">Output channels.</param>
/// <param name="Layers">Resnets of the level (the resampler not counted).</param>
/// <param name="Resample">End with a down- or up-sampling resnet (all but the last level).</param>
/// <param name="AttentionHeadDim">Channels per attention head (blocks with attention).</param>
/// <param name="CrossAttentionDim">Width of the context tokens (blocks with attention).</param>
/// <param name="OnlyCrossAttention">Attention uses the context keys/values only.</param>
/// <param name="Resnet">Resnet settings (its groups, device and dtype also apply to the attentions).</param>
/// <param name="Path">State-dict path of the block, the prefix of its hook names.</param>
/// <param name="Runtime">The model's hook runtime.</param>
internal sealed record UNetLevel(int InChannels, int PrevOutputChannels, int OutChannels, int Layers, bool Resample,
    int AttentionHeadDim, int CrossAttentionDim, bool OnlyCrossAttention, ResnetBlockSettings Resnet, string Path, HookRuntime Runtime);
