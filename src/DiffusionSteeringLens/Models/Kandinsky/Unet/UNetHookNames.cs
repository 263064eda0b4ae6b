namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>
/// Names of the UNet's hook points outside its blocks (the blocks' points are their state-dict paths, see
/// <see cref="UNetLevelHooks"/>). They are the golden fixtures' debug names.
/// </summary>
internal static class UNetHookNames
{
    /// <summary>Sinusoidal timestep features (float32, before <c>time_embedding</c>).</summary>
    public const string TimestepFeatures = "t_emb";

    /// <summary>Output of <c>time_embedding</c>.</summary>
    public const string TimeEmbedding = "time_embedding";

    /// <summary>Output of <c>add_embedding</c> (the image embedding's share of the time embedding).</summary>
    public const string ImageTimeEmbedding = "aug_emb";

    /// <summary>Cross-attention context tokens made by <c>encoder_hid_proj</c>.</summary>
    public const string Context = "encoder_hidden_states";

    /// <summary>Output of <c>conv_in</c>.</summary>
    public const string ConvIn = "conv_in";

    /// <summary>Output of <c>conv_norm_out</c>, before the SiLU.</summary>
    public const string ConvNormOut = "conv_norm_out";

    /// <summary>Output of <c>conv_out</c> (the prediction).</summary>
    public const string ConvOut = "conv_out";

    /// <summary>Path of the mid block.</summary>
    public const string MidBlock = "mid_block";

    /// <summary>Path of down block <paramref name="i"/>.</summary>
    public static string DownBlock(int i) => $"down_blocks.{i}";

    /// <summary>Path of up block <paramref name="i"/>.</summary>
    public static string UpBlock(int i) => $"up_blocks.{i}";
}
