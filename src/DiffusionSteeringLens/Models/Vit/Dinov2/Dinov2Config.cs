using DiffusionSteeringLens.IO;
namespace DiffusionSteeringLens.Models.Vit.Dinov2;

/// <summary>Hugging Face <c>Dinov2Config</c> (model_type <c>dinov2</c>). Defaults are transformers' (ViT-B/14 sizes).</summary>
public sealed record Dinov2Config
{
    /// <summary>Residual width.</summary>
    public int HiddenSize { get; init; } = 768;
    /// <summary>Number of encoder layers.</summary>
    public int NumHiddenLayers { get; init; } = 12;
    /// <summary>Attention heads per layer.</summary>
    public int NumAttentionHeads { get; init; } = 12;
    /// <summary>MLP width as a multiple of <see cref="HiddenSize"/>.</summary>
    public int MlpRatio { get; init; } = 4;
    /// <summary>Input channels.</summary>
    public int NumChannels { get; init; } = 3;
    /// <summary>Resolution the position embeddings were trained for (they are interpolated for other inputs).</summary>
    public int ImageSize { get; init; } = 224;
    /// <summary>Patch size (conv kernel and stride).</summary>
    public int PatchSize { get; init; } = 16;
    /// <summary>MLP activation of the plain MLP (transformers' <c>ACT2FN</c> name; SwiGLU always uses SiLU).</summary>
    public string HiddenAct { get; init; } = "gelu";
    /// <summary>LayerNorm epsilon.</summary>
    public double LayerNormEps { get; init; } = 1e-6;
    /// <summary>Whether the query/key/value projections have biases.</summary>
    public bool QkvBias { get; init; } = true;
    /// <summary>Initial layer-scale value (the loaded <c>lambda1</c> weights replace it).</summary>
    public double LayerScaleValue { get; init; } = 1.0;
    /// <summary>SwiGLU feed-forward (<c>weights_in</c>/<c>weights_out</c>) instead of fc1/fc2.</summary>
    public bool UseSwiGluFfn { get; init; }

    /// <summary>Width of one head.</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;
    /// <summary>Rows of the stored position table (trained grid + CLS).</summary>
    public int NumPositions => (ImageSize / PatchSize) * (ImageSize / PatchSize) + 1;

    /// <summary>
    /// MLP hidden width: <c>hidden·mlp_ratio</c>, or for SwiGLU <c>(int(hidden·mlp_ratio·2/3) + 7) // 8 · 8</c> as
    /// transformers computes it.
    /// </summary>
    public int MlpHiddenSize => UseSwiGluFfn ? ((int)(HiddenSize * MlpRatio * 2.0 / 3.0) + 7) / 8 * 8 : HiddenSize * MlpRatio;

    /// <summary>Reads <c>config.json</c> from a model folder or a file path.</summary>
    /// <exception cref="ConfigException">A bad value; the message names the file and key.</exception>
    public static Dinov2Config Load(string folderOrFile)
    {
        var path = Directory.Exists(folderOrFile) ? Path.Combine(folderOrFile, "config.json") : folderOrFile;
        return From(JsonConfig.Load(path));
    }

    /// <summary>Builds the config from parsed JSON.</summary>
    /// <exception cref="ConfigException">A bad value; the message names the file and key.</exception>
    internal static Dinov2Config From(JsonConfig json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var c = new Dinov2Config
        {
            HiddenSize = json.GetInt("hidden_size", 768, min: 1),
            NumHiddenLayers = json.GetInt("num_hidden_layers", 12, min: 1),
            NumAttentionHeads = json.GetInt("num_attention_heads", 12, min: 1),
            MlpRatio = json.GetInt("mlp_ratio", 4, min: 1),
            NumChannels = json.GetInt("num_channels", 3, min: 1),
            ImageSize = json.GetInt("image_size", 224, min: 1),
            PatchSize = json.GetInt("patch_size", 16, min: 1),
            HiddenAct = json.GetString("hidden_act", "gelu", Models.Vit.HfLayout.VitActivation.Supported),
            LayerNormEps = json.GetDouble("layer_norm_eps", 1e-6, min: 0),
            QkvBias = json.GetBool("qkv_bias", true),
            LayerScaleValue = json.GetDouble("layerscale_value", 1.0),
            UseSwiGluFfn = json.GetBool("use_swiglu_ffn", false),
        };
        if (c.HiddenSize % c.NumAttentionHeads != 0)
            throw json.Error("num_attention_heads", $"hidden_size {c.HiddenSize} is not divisible by {c.NumAttentionHeads} heads.");
        if (c.ImageSize % c.PatchSize != 0)
            throw json.Error("patch_size", $"image_size {c.ImageSize} is not divisible by patch_size {c.PatchSize}.");
        return c;
    }
}
