using DiffusionSteeringLens.IO;
using System.Text.Json;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>
/// diffusers <c>UNet2DConditionModel</c> config (<c>unet/config.json</c>), restricted to the image-conditioned layout
/// Kandinsky 2.2 uses. Defaults are diffusers' (v0.27.2); a default this library cannot build (e.g. the default
/// <c>CrossAttnDownBlock2D</c> block types) is rejected by <see cref="Load"/> just like an explicit unsupported value.
/// </summary>
/// <remarks>
/// Per-block settings that diffusers accepts as "int or list" (<c>layers_per_block</c>, <c>attention_head_dim</c>)
/// are stored expanded to one entry per down block.
/// </remarks>
public sealed record UNet2DConditionConfig
{
    /// <summary>Down-block types this library implements (from the one block table the model builds from).</summary>
    public static readonly IReadOnlyList<string> SupportedDownBlockTypes = UNetBlockTypes.Down.Select(t => t.Name).ToArray();

    /// <summary>Mid-block types this library implements.</summary>
    public static readonly IReadOnlyList<string> SupportedMidBlockTypes = new[] { UNetBlockTypes.Mid };

    /// <summary>Up-block types this library implements (from the one block table the model builds from).</summary>
    public static readonly IReadOnlyList<string> SupportedUpBlockTypes = UNetBlockTypes.Up.Select(t => t.Name).ToArray();

    /// <summary>Activation names accepted wherever diffusers takes an activation (both mean SiLU).</summary>
    public static readonly string[] SupportedActivations = { "silu", "swish" };

    /// <summary>Channels of the noisy sample.</summary>
    public int InChannels { get; init; } = 4;
    /// <summary>Output channels (8 for Kandinsky 2.2: noise + learned variance).</summary>
    public int OutChannels { get; init; } = 4;
    /// <summary>Map the sample from [0, 1] to [-1, 1] before <c>conv_in</c>.</summary>
    public bool CenterInputSample { get; init; }
    /// <summary>Order the sinusoidal timestep features [cos, sin] instead of [sin, cos].</summary>
    public bool FlipSinToCos { get; init; } = true;
    /// <summary>Subtracted from the number of frequencies in the exponent denominator.</summary>
    public double FreqShift { get; init; }
    /// <summary>One type per down block.</summary>
    public string[] DownBlockTypes { get; init; } = { "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D" };
    /// <summary>Mid-block type.</summary>
    public string MidBlockType { get; init; } = "UNetMidBlock2DCrossAttn";
    /// <summary>One type per up block.</summary>
    public string[] UpBlockTypes { get; init; } = { "UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D" };
    /// <summary>Attention layers attend only to the context tokens (no self keys/values).</summary>
    public bool OnlyCrossAttention { get; init; }
    /// <summary>Same for the mid block; null follows <see cref="OnlyCrossAttention"/>.</summary>
    public bool? MidBlockOnlyCrossAttention { get; init; }
    /// <summary>Output channels of each resolution level.</summary>
    public int[] BlockOutChannels { get; init; } = { 320, 640, 1280, 1280 };
    /// <summary>Resnets per down block (up blocks have one more), one entry per down block.</summary>
    public int[] LayersPerBlock { get; init; } = { 2, 2, 2, 2 };
    /// <summary>Conv padding of conv down-samplers (unused by the resnet down-samplers implemented here).</summary>
    public int DownsamplePadding { get; init; } = 1;
    /// <summary>Output divisor of the mid block's resnets.</summary>
    public double MidBlockScaleFactor { get; init; } = 1.0;
    /// <summary>Dropout probability (inference only here: dropout is the identity).</summary>
    public double Dropout { get; init; }
    /// <summary>Resnet activation (<c>silu</c>).</summary>
    public string ActFn { get; init; } = "silu";
    /// <summary>GroupNorm groups of every resnet, attention and <c>conv_norm_out</c>.</summary>
    public int NormNumGroups { get; init; } = 32;
    /// <summary>GroupNorm epsilon of resnets and <c>conv_norm_out</c>.</summary>
    public double NormEps { get; init; } = 1e-5;
    /// <summary>Width of the cross-attention context tokens.</summary>
    public int CrossAttentionDim { get; init; } = 1280;
    /// <summary>Width of the conditioning image embedding (1280 for Kandinsky 2.2).</summary>
    public int? EncoderHidDim { get; init; }
    /// <summary>How the context is made from the conditioning (only <c>image_proj</c> is implemented).</summary>
    public string? EncoderHidDimType { get; init; }
    /// <summary>Channels per attention head (diffusers' name notwithstanding), one entry per down block.</summary>
    public int[] AttentionHeadDim { get; init; } = { 8, 8, 8, 8 };
    /// <summary>How the time embedding enters the resnets: <c>default</c> (added) or <c>scale_shift</c>.</summary>
    public string ResnetTimeScaleShift { get; init; } = "default";
    /// <summary>Skip the activation on the time embedding before each resnet's <c>time_emb_proj</c>.</summary>
    public bool ResnetSkipTimeAct { get; init; }
    /// <summary>Output divisor of the down/up blocks' resnets.</summary>
    public double ResnetOutScaleFactor { get; init; } = 1.0;
    /// <summary>Timestep feature type (only <c>positional</c> is implemented).</summary>
    public string TimeEmbeddingType { get; init; } = "positional";
    /// <summary>Width of the time embedding; null means 4 × <c>block_out_channels[0]</c>.</summary>
    public int? TimeEmbeddingDim { get; init; }
    /// <summary>Activation applied to the summed embedding before the blocks (null: none).</summary>
    public string? TimeEmbeddingActFn { get; init; }
    /// <summary>Activation after <c>time_embedding.linear_2</c> (null: none).</summary>
    public string? TimestepPostAct { get; init; }
    /// <summary>Kernel of <c>conv_in</c> (odd).</summary>
    public int ConvInKernel { get; init; } = 3;
    /// <summary>Kernel of <c>conv_out</c> (odd).</summary>
    public int ConvOutKernel { get; init; } = 3;
    /// <summary>Extra embedding added to the time embedding (only <c>image</c> is implemented).</summary>
    public string? AdditionEmbedType { get; init; }

    /// <summary>
    /// Context tokens made by <c>encoder_hid_proj</c>. diffusers' <c>ImageProjection</c> hard-codes 32 and the value is
    /// not in config.json, so it is not read from there either.
    /// </summary>
    public int NumImageTextEmbeds { get; init; } = 32;

    /// <summary>Most resolution levels a config may list (the spatial multiple 2^(levels − 1) must fit an int).</summary>
    internal const int MaxLevels = 16;

    /// <summary>Sample height and width must be multiples of this (one halving per down-sampling level): what a caller checks a requested size against before decoding.</summary>
    public int SpatialMultiple => 1 << (BlockOutChannels.Length - 1);

    /// <summary>Width of the time embedding the blocks receive.</summary>
    public int TimeEmbedDim => TimeEmbeddingDim ?? 4 * BlockOutChannels[0];

    /// <summary>Reads <c>config.json</c> from a model folder or a file path.</summary>
    /// <exception cref="ConfigException">A bad or unsupported value; the message names the file and key.</exception>
    public static UNet2DConditionConfig Load(string folderOrFile)
    {
        var path = Directory.Exists(folderOrFile) ? Path.Combine(folderOrFile, "config.json") : folderOrFile;
        return From(JsonConfig.Load(path));
    }

    /// <summary>Builds and validates the config from parsed JSON.</summary>
    /// <exception cref="ConfigException">A bad or unsupported value; the message names the file and key.</exception>
    internal static UNet2DConditionConfig From(JsonConfig j)
    {
        ArgumentNullException.ThrowIfNull(j);
        var cls = j.GetStringOrNull("_class_name");
        if (cls is not null && cls != "UNet2DConditionModel")
            throw j.Error("_class_name", $"'{cls}' is not a UNet2DConditionModel config.");

        // Features that would add modules or inputs this implementation does not have: refuse rather than
        // build a model that silently ignores them.
        RejectIfSet(j, "class_embed_type", "class embeddings are not supported.");
        RejectIfSet(j, "num_class_embeds", "class embeddings are not supported.");
        RejectIfSet(j, "time_cond_proj_dim", "timestep conditioning (time_cond_proj_dim) is not supported.");
        RejectIfSet(j, "cross_attention_norm", "cross_attention_norm is not supported.");
        // diffusers itself raises for num_attention_heads (see its issue #2011): attention_head_dim is the knob.
        RejectIfSet(j, "num_attention_heads", "set attention_head_dim instead (diffusers rejects num_attention_heads too).");
        if (j.GetBool("dual_cross_attention", false)) throw j.Error("dual_cross_attention", "dual cross-attention is not supported.");
        // With concatenation the blocks expect a doubled time embedding even without a class embedding.
        if (j.GetBool("class_embeddings_concat", false)) throw j.Error("class_embeddings_concat", "class embedding concatenation is not supported.");
        j.GetString("attention_type", "default", "default");
        j.GetString("time_embedding_type", "positional", "positional");

        var blockOut = j.GetIntArray("block_out_channels", new[] { 320, 640, 1280, 1280 }, min: 1);
        if (blockOut.Length == 0) throw j.Error("block_out_channels", "must not be empty.");
        int n = blockOut.Length;

        var c = new UNet2DConditionConfig
        {
            InChannels = j.GetInt("in_channels", 4, min: 1),
            OutChannels = j.GetInt("out_channels", 4, min: 1),
            CenterInputSample = j.GetBool("center_input_sample", false),
            FlipSinToCos = j.GetBool("flip_sin_to_cos", true),
            FreqShift = j.GetDouble("freq_shift", 0.0),
            DownBlockTypes = j.GetStringArray("down_block_types", new UNet2DConditionConfig().DownBlockTypes),
            MidBlockType = j.GetString("mid_block_type", "UNetMidBlock2DCrossAttn", UNetBlockTypes.Mid),
            UpBlockTypes = j.GetStringArray("up_block_types", new UNet2DConditionConfig().UpBlockTypes),
            OnlyCrossAttention = j.GetBool("only_cross_attention", false),
            MidBlockOnlyCrossAttention = j.Has("mid_block_only_cross_attention") ? j.GetBool("mid_block_only_cross_attention", false) : null,
            BlockOutChannels = blockOut,
            LayersPerBlock = IntOrArray(j, "layers_per_block", 2, n, min: 1),
            DownsamplePadding = j.GetInt("downsample_padding", 1, min: 0),
            MidBlockScaleFactor = j.GetDouble("mid_block_scale_factor", 1.0, min: double.Epsilon),
            Dropout = j.GetDouble("dropout", 0.0, min: 0, max: 1),
            ActFn = j.GetString("act_fn", "silu", SupportedActivations),
            NormNumGroups = j.GetInt("norm_num_groups", 32, min: 1),
            NormEps = j.GetDouble("norm_eps", 1e-5, min: 0),
            CrossAttentionDim = CrossAttentionDimOf(j),
            EncoderHidDim = j.GetIntOrNull("encoder_hid_dim", min: 1),
            EncoderHidDimType = j.GetStringOrNull("encoder_hid_dim_type", "image_proj"),
            AttentionHeadDim = IntOrArray(j, "attention_head_dim", 8, n, min: 1),
            ResnetTimeScaleShift = j.GetString("resnet_time_scale_shift", "default", "default", "scale_shift"),
            ResnetSkipTimeAct = j.GetBool("resnet_skip_time_act", false),
            ResnetOutScaleFactor = j.GetDouble("resnet_out_scale_factor", 1.0, min: double.Epsilon),
            TimeEmbeddingType = "positional",
            TimeEmbeddingDim = j.GetIntOrNull("time_embedding_dim", min: 1),
            TimeEmbeddingActFn = j.GetStringOrNull("time_embedding_act_fn", SupportedActivations),
            TimestepPostAct = j.GetStringOrNull("timestep_post_act", SupportedActivations),
            ConvInKernel = j.GetInt("conv_in_kernel", 3, min: 1),
            ConvOutKernel = j.GetInt("conv_out_kernel", 3, min: 1),
            AdditionEmbedType = j.GetStringOrNull("addition_embed_type", "image"),
        };
        c.Check((key, message) => j.Error(key, message));
        return c;
    }

    /// <summary>
    /// Checks a config built in code (<see cref="Load"/> does this already): block types, list lengths, channel
    /// divisibility, and that the model is conditioned on image embeddings only.
    /// </summary>
    /// <exception cref="ArgumentException">An unsupported or inconsistent value; the message names the config key.</exception>
    public void Validate() => Check((key, message) => new ArgumentException($"UNet2DConditionConfig '{key}': {message}"));

    private void Check(Func<string, string, Exception> fail)
    {
        int n = BlockOutChannels.Length;
        if (n == 0) throw fail("block_out_channels", "must not be empty.");
        // Each level halves the sample; beyond MaxLevels 2^(levels − 1) would overflow an int and no real model comes close.
        if (n > MaxLevels) throw fail("block_out_channels", $"lists {n} levels; at most {MaxLevels} are supported.");
        if (DownBlockTypes.Length != n)
            throw fail("down_block_types", $"has {DownBlockTypes.Length} entries but block_out_channels has {n}.");
        if (UpBlockTypes.Length != n)
            throw fail("up_block_types", $"has {UpBlockTypes.Length} entries but block_out_channels has {n}.");
        for (int i = 0; i < n; i++)
        {
            if (!SupportedDownBlockTypes.Contains(DownBlockTypes[i]))
                throw fail($"down_block_types[{i}]", $"'{DownBlockTypes[i]}' is not supported (supported: {string.Join(", ", SupportedDownBlockTypes)}).");
            if (!SupportedUpBlockTypes.Contains(UpBlockTypes[i]))
                throw fail($"up_block_types[{i}]", $"'{UpBlockTypes[i]}' is not supported (supported: {string.Join(", ", SupportedUpBlockTypes)}).");
        }
        if (!SupportedMidBlockTypes.Contains(MidBlockType))
            throw fail("mid_block_type", $"'{MidBlockType}' is not supported (supported: {string.Join(", ", SupportedMidBlockTypes)}).");
        if (LayersPerBlock.Length != n) throw fail("layers_per_block", $"has {LayersPerBlock.Length} entries but there are {n} down blocks.");
        if (AttentionHeadDim.Length != n) throw fail("attention_head_dim", $"has {AttentionHeadDim.Length} entries but there are {n} down blocks.");
        if (LayersPerBlock.Any(l => l < 1)) throw fail("layers_per_block", "every entry must be >= 1.");
        if (AttentionHeadDim.Any(d => d < 1)) throw fail("attention_head_dim", "every entry must be >= 1.");
        if (InChannels < 1) throw fail("in_channels", "must be >= 1.");
        if (OutChannels < 1) throw fail("out_channels", "must be >= 1.");
        if (BlockOutChannels.Any(ch => ch < 1)) throw fail("block_out_channels", "every entry must be >= 1.");
        if (NormNumGroups < 1) throw fail("norm_num_groups", "must be >= 1.");
        for (int i = 0; i < n; i++)
            if (BlockOutChannels[i] % NormNumGroups != 0)
                throw fail("norm_num_groups", $"block_out_channels[{i}] = {BlockOutChannels[i]} is not divisible by {NormNumGroups} groups.");
        if (BlockOutChannels[0] < 2) throw fail("block_out_channels", "block_out_channels[0] (the timestep feature width) must be >= 2.");
        if (ConvInKernel % 2 == 0) throw fail("conv_in_kernel", $"must be odd (same-size padding), found {ConvInKernel}.");
        if (ConvOutKernel % 2 == 0) throw fail("conv_out_kernel", $"must be odd (same-size padding), found {ConvOutKernel}.");
        if (TimeEmbeddingType != "positional") throw fail("time_embedding_type", $"'{TimeEmbeddingType}' is not supported (supported: positional).");
        if (!SupportedActivations.Contains(ActFn)) throw fail("act_fn", $"'{ActFn}' is not supported (supported: silu, swish).");
        if (TimeEmbeddingActFn is not null && !SupportedActivations.Contains(TimeEmbeddingActFn))
            throw fail("time_embedding_act_fn", $"'{TimeEmbeddingActFn}' is not supported (supported: silu, swish, null).");
        if (TimestepPostAct is not null && !SupportedActivations.Contains(TimestepPostAct))
            throw fail("timestep_post_act", $"'{TimestepPostAct}' is not supported (supported: silu, swish, null).");
        if (ResnetTimeScaleShift is not ("default" or "scale_shift"))
            throw fail("resnet_time_scale_shift", $"'{ResnetTimeScaleShift}' is not supported (supported: default, scale_shift).");
        if (TimeEmbedDim < 1) throw fail("time_embedding_dim", "must be >= 1.");
        if (CrossAttentionDim < 1) throw fail("cross_attention_dim", "must be >= 1.");
        if (NumImageTextEmbeds < 1) throw fail("num_image_text_embeds", "must be >= 1.");

        // This model is driven by image embeddings alone (IImageConditionedUNet): both the context tokens and the
        // extra time embedding come from them, exactly as Kandinsky 2.2 configures the UNet.
        if (AdditionEmbedType != "image")
            throw fail("addition_embed_type", $"{Describe(AdditionEmbedType)} is not supported (supported: image).");
        if (EncoderHidDimType is null && EncoderHidDim is not null)
            // diffusers then silently switches to "text_proj", which needs text encoder states.
            throw fail("encoder_hid_dim_type", "null with encoder_hid_dim set means 'text_proj' in diffusers, which is not supported (supported: image_proj).");
        if (EncoderHidDimType != "image_proj")
            throw fail("encoder_hid_dim_type", $"{Describe(EncoderHidDimType)} is not supported (supported: image_proj).");
        if (EncoderHidDim is null or < 1) throw fail("encoder_hid_dim", "must be set (the image embedding width) for encoder_hid_dim_type 'image_proj'.");

        // Attention: heads = channels / head size; a remainder would leave an inner width different from the
        // channel count, which the reference cannot reshape back either.
        for (int i = 0; i < n; i++)
        {
            if (UNetBlockTypes.Find(UNetBlockTypes.Down, DownBlockTypes[i])!.HasAttention && BlockOutChannels[i] % AttentionHeadDim[i] != 0)
                throw fail("attention_head_dim", $"down block {i}: {BlockOutChannels[i]} channels are not divisible by head size {AttentionHeadDim[i]}.");
            int upOut = BlockOutChannels[n - 1 - i];
            if (UNetBlockTypes.Find(UNetBlockTypes.Up, UpBlockTypes[i])!.HasAttention && upOut % AttentionHeadDim[i] != 0)
                throw fail("attention_head_dim", $"up block {i}: {upOut} channels are not divisible by head size {AttentionHeadDim[i]}.");
        }
        if (BlockOutChannels[n - 1] % AttentionHeadDim[n - 1] != 0)
            throw fail("attention_head_dim", $"mid block: {BlockOutChannels[n - 1]} channels are not divisible by head size {AttentionHeadDim[n - 1]}.");

        // Skip bookkeeping: the up blocks must consume exactly the tensors the down path produces.
        int produced = 1;
        for (int i = 0; i < n; i++) produced += LayersPerBlock[i] + (i < n - 1 ? 1 : 0);
        int consumed = 0;
        for (int i = 0; i < n; i++) consumed += LayersPerBlock[n - 1 - i] + 1;
        if (produced != consumed)
            throw fail("layers_per_block", $"the down path produces {produced} skip tensors but the up path consumes {consumed}.");
    }

    private static string Describe(string? value) => value is null ? "null" : $"'{value}'";

    private static void RejectIfSet(JsonConfig j, string key, string message)
    {
        if (j.Has(key)) throw j.Error(key, message);
    }

    private static int CrossAttentionDimOf(JsonConfig j)
    {
        if (j.TryGet("cross_attention_dim", out var v) && v.ValueKind == JsonValueKind.Array)
            throw j.Error("cross_attention_dim", "per-block cross_attention_dim lists are not supported (image_proj needs one width).");
        return j.GetInt("cross_attention_dim", 1280, min: 1);
    }

    private static int[] IntOrArray(JsonConfig j, string key, int defaultValue, int count, int min)
    {
        if (j.TryGet(key, out var v) && v.ValueKind == JsonValueKind.Array)
        {
            var a = j.GetIntArray(key, Array.Empty<int>(), min);
            if (a.Length != count) throw j.Error(key, $"has {a.Length} entries but there are {count} down blocks.");
            return a;
        }
        return Enumerable.Repeat(j.GetInt(key, defaultValue, min), count).ToArray();
    }
}
