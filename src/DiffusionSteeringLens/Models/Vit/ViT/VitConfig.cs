using DiffusionSteeringLens.IO;
namespace DiffusionSteeringLens.Models.Vit.ViT;

/// <summary>
/// Hugging Face <c>ViTConfig</c> (model_type <c>vit</c>) as <c>ViTForImageClassification</c> uses it. Defaults are
/// transformers' (ViT-B/16).
/// </summary>
public sealed record VitConfig
{
    /// <summary>Residual width.</summary>
    public int HiddenSize { get; init; } = 768;
    /// <summary>MLP hidden width.</summary>
    public int IntermediateSize { get; init; } = 3072;
    /// <summary>Number of encoder layers.</summary>
    public int NumHiddenLayers { get; init; } = 12;
    /// <summary>Attention heads per layer.</summary>
    public int NumAttentionHeads { get; init; } = 12;
    /// <summary>Input channels.</summary>
    public int NumChannels { get; init; } = 3;
    /// <summary>Input resolution (square).</summary>
    public int ImageSize { get; init; } = 224;
    /// <summary>Patch size (conv kernel and stride).</summary>
    public int PatchSize { get; init; } = 16;
    /// <summary>MLP activation (transformers' <c>ACT2FN</c> name).</summary>
    public string HiddenAct { get; init; } = "gelu";
    /// <summary>LayerNorm epsilon.</summary>
    public double LayerNormEps { get; init; } = 1e-12;
    /// <summary>Whether the query/key/value projections have biases.</summary>
    public bool QkvBias { get; init; } = true;
    /// <summary>Class names by index (<c>id2label</c>); its length is the classifier's width.</summary>
    public IReadOnlyList<string> Labels { get; init; } = new[] { "LABEL_0", "LABEL_1" };

    /// <summary>Width of one head.</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;
    /// <summary>Tokens per image (patches + CLS).</summary>
    public int NumPositions => (ImageSize / PatchSize) * (ImageSize / PatchSize) + 1;

    /// <summary>Reads <c>config.json</c> from a model folder or a file path.</summary>
    /// <exception cref="ConfigException">A bad value; the message names the file and key.</exception>
    public static VitConfig Load(string folderOrFile)
    {
        var path = Directory.Exists(folderOrFile) ? Path.Combine(folderOrFile, "config.json") : folderOrFile;
        return From(JsonConfig.Load(path));
    }

    /// <summary>Builds the config from parsed JSON.</summary>
    /// <exception cref="ConfigException">A bad value; the message names the file and key.</exception>
    internal static VitConfig From(JsonConfig json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var c = new VitConfig
        {
            HiddenSize = json.GetInt("hidden_size", 768, min: 1),
            IntermediateSize = json.GetInt("intermediate_size", 3072, min: 1),
            NumHiddenLayers = json.GetInt("num_hidden_layers", 12, min: 1),
            NumAttentionHeads = json.GetInt("num_attention_heads", 12, min: 1),
            NumChannels = json.GetInt("num_channels", 3, min: 1),
            ImageSize = json.GetInt("image_size", 224, min: 1),
            PatchSize = json.GetInt("patch_size", 16, min: 1),
            HiddenAct = json.GetString("hidden_act", "gelu", Models.Vit.HfLayout.VitActivation.Supported),
            LayerNormEps = json.GetDouble("layer_norm_eps", 1e-12, min: 0),
            QkvBias = json.GetBool("qkv_bias", true),
            Labels = HfLabels.Read(json),
        };
        if (c.HiddenSize % c.NumAttentionHeads != 0)
            throw json.Error("num_attention_heads", $"hidden_size {c.HiddenSize} is not divisible by {c.NumAttentionHeads} heads.");
        if (c.ImageSize % c.PatchSize != 0)
            throw json.Error("patch_size", $"image_size {c.ImageSize} is not divisible by patch_size {c.PatchSize}.");
        return c;
    }
}
