using DiffusionSteeringLens.IO;
namespace DiffusionSteeringLens.Models.Kandinsky.MoVq;

/// <summary>
/// diffusers <c>VQModel</c> config (<c>movq/config.json</c> of Kandinsky 2.2). Defaults are diffusers' constructor
/// defaults, so an older file that lacks a newer key still reads as the reference library would read it.
/// </summary>
public sealed record VqModelConfig
{
    /// <summary>Block types the encoder supports.</summary>
    public static readonly IReadOnlyList<string> SupportedDownBlockTypes = new[] { "DownEncoderBlock2D", "AttnDownEncoderBlock2D" };

    /// <summary>Block types the decoder supports.</summary>
    public static readonly IReadOnlyList<string> SupportedUpBlockTypes = new[] { "UpDecoderBlock2D", "AttnUpDecoderBlock2D" };

    /// <summary>Image channels fed to the encoder.</summary>
    public int InChannels { get; init; } = 3;
    /// <summary>Image channels produced by the decoder.</summary>
    public int OutChannels { get; init; } = 3;
    /// <summary>Encoder block types, one per resolution level.</summary>
    public IReadOnlyList<string> DownBlockTypes { get; init; } = new[] { "DownEncoderBlock2D" };
    /// <summary>Decoder block types, one per resolution level (lowest resolution first).</summary>
    public IReadOnlyList<string> UpBlockTypes { get; init; } = new[] { "UpDecoderBlock2D" };
    /// <summary>Channels per level (encoder order: highest resolution first).</summary>
    public IReadOnlyList<int> BlockOutChannels { get; init; } = new[] { 64 };
    /// <summary>Resnets per encoder block; decoder blocks have one more.</summary>
    public int LayersPerBlock { get; init; } = 1;
    /// <summary>Activation; only <c>silu</c> (alias <c>swish</c>) is supported.</summary>
    public string ActFn { get; init; } = "silu";
    /// <summary>Channels of the latent between encoder and decoder.</summary>
    public int LatentChannels { get; init; } = 3;
    /// <summary>Nominal sample size (informational).</summary>
    public int SampleSize { get; init; } = 32;
    /// <summary>Codebook size.</summary>
    public int NumVqEmbeddings { get; init; } = 256;
    /// <summary>GroupNorm groups of the encoder (and of a <c>group</c>-norm decoder). Spatial norms always use 32.</summary>
    public int NormNumGroups { get; init; } = 32;
    /// <summary>Codebook vector width as written in the file; null means <see cref="LatentChannels"/>.</summary>
    public int? VqEmbedDim { get; init; }
    /// <summary>Latent scaling factor (not used by the Kandinsky pipeline).</summary>
    public double ScalingFactor { get; init; } = 0.18215;
    /// <summary><c>group</c> or <c>spatial</c> (MoVQ's SpatialNorm conditioning on the latent).</summary>
    public string NormType { get; init; } = "group";
    /// <summary>Whether the mid blocks have an attention layer.</summary>
    public bool MidBlockAddAttention { get; init; } = true;
    /// <summary>Whether <c>decode(force_not_quantize=True)</c> treats its input as codebook indices (not supported).</summary>
    public bool LookupFromCodebook { get; init; }
    /// <summary>Upcast hint for half precision (informational).</summary>
    public bool ForceUpcast { get; init; }

    /// <summary>The codebook vector width actually used.</summary>
    public int EffectiveVqEmbedDim => VqEmbedDim ?? LatentChannels;

    /// <summary>Most resolution levels a config may list (the scale factor 2^(levels − 1) must fit an int).</summary>
    internal const int MaxLevels = 16;

    /// <summary>Image pixels per latent pixel: 2^(levels − 1).</summary>
    public int ScaleFactor => 1 << (BlockOutChannels.Count - 1);

    /// <summary>True for MoVQ's spatially conditioned decoder norms.</summary>
    public bool IsSpatialNorm => NormType == "spatial";

    /// <summary>Reads <c>config.json</c> from a folder, or the given file.</summary>
    /// <exception cref="FileNotFoundException">No config file.</exception>
    /// <exception cref="ConfigException">A bad or unsupported value; the message names the file and key.</exception>
    public static VqModelConfig Load(string folderOrFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(folderOrFile);
        var path = Directory.Exists(folderOrFile) ? Path.Combine(folderOrFile, "config.json") : folderOrFile;
        var j = JsonConfig.Load(path);
        var cls = j.GetStringOrNull("_class_name");
        if (cls is not null && cls != "VQModel")
            throw j.Error("_class_name", $"'{cls}' is not a VQModel config.");

        var blockOut = j.GetIntArray("block_out_channels", new[] { 64 }, min: 1);
        if (blockOut.Length == 0) throw j.Error("block_out_channels", "must list at least one level.");
        // Each level doubles the scale factor; beyond MaxLevels it would overflow an int and no real model comes close.
        if (blockOut.Length > MaxLevels) throw j.Error("block_out_channels", $"lists {blockOut.Length} levels; at most {MaxLevels} are supported.");
        var down = j.GetStringArray("down_block_types", new[] { "DownEncoderBlock2D" });
        var up = j.GetStringArray("up_block_types", new[] { "UpDecoderBlock2D" });
        CheckBlocks(j, "down_block_types", down, SupportedDownBlockTypes, blockOut.Length);
        CheckBlocks(j, "up_block_types", up, SupportedUpBlockTypes, blockOut.Length);

        var act = j.GetString("act_fn", "silu", "silu", "swish");
        var c = new VqModelConfig
        {
            InChannels = j.GetInt("in_channels", 3, min: 1),
            OutChannels = j.GetInt("out_channels", 3, min: 1),
            DownBlockTypes = down,
            UpBlockTypes = up,
            BlockOutChannels = blockOut,
            LayersPerBlock = j.GetInt("layers_per_block", 1, min: 1),
            ActFn = act,
            LatentChannels = j.GetInt("latent_channels", 3, min: 1),
            SampleSize = j.GetInt("sample_size", 32, min: 1),
            NumVqEmbeddings = j.GetInt("num_vq_embeddings", 256, min: 1),
            NormNumGroups = j.GetInt("norm_num_groups", 32, min: 1),
            VqEmbedDim = j.GetIntOrNull("vq_embed_dim", min: 1),
            ScalingFactor = j.GetDouble("scaling_factor", 0.18215),
            NormType = j.GetString("norm_type", "group", "group", "spatial"),
            MidBlockAddAttention = j.GetBool("mid_block_add_attention", true),
            LookupFromCodebook = j.GetBool("lookup_from_codebook", false),
            ForceUpcast = j.GetBool("force_upcast", false),
        };
        if (c.LookupFromCodebook)
            throw j.Error("lookup_from_codebook", "decoding from codebook indices is not supported (Kandinsky 2.2 decodes latents directly).");
        for (int i = 0; i < blockOut.Length; i++)
        {
            if (blockOut[i] % c.NormNumGroups != 0)
                throw j.Error("norm_num_groups", $"{c.NormNumGroups} groups do not divide block_out_channels[{i}] = {blockOut[i]}.");
            // SpatialNorm hard-codes 32 groups regardless of norm_num_groups.
            if (c.IsSpatialNorm && blockOut[i] % 32 != 0)
                throw j.Error("block_out_channels", $"block_out_channels[{i}] = {blockOut[i]} is not divisible by the 32 groups of a spatial norm.");
        }
        return c;
    }

    private static void CheckBlocks(JsonConfig j, string key, string[] types, IReadOnlyList<string> supported, int levels)
    {
        if (types.Length != levels)
            throw j.Error(key, $"has {types.Length} entries but block_out_channels has {levels}.");
        for (int i = 0; i < types.Length; i++)
            if (!supported.Contains(types[i]))
                throw j.Error($"{key}[{i}]", $"'{types[i]}' is not supported (supported: {string.Join(", ", supported)}).");
    }
}
