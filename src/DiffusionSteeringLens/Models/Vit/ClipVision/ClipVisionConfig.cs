using DiffusionSteeringLens.IO;
namespace DiffusionSteeringLens.Models.Vit.ClipVision;

/// <summary>
/// Hugging Face <c>CLIPVisionConfig</c> (model_type <c>clip_vision_model</c>, or the <c>vision_config</c> of a full
/// <c>clip</c> config). Defaults are transformers' (ViT-B/32 sizes, quick_gelu).
/// </summary>
public sealed record ClipVisionConfig
{
    /// <summary>Residual width (1664 for ViT-bigG/14).</summary>
    public int HiddenSize { get; init; } = 768;
    /// <summary>MLP hidden width.</summary>
    public int IntermediateSize { get; init; } = 3072;
    /// <summary>Output embedding width of <c>visual_projection</c>.</summary>
    public int ProjectionDim { get; init; } = 512;
    /// <summary>Number of encoder layers.</summary>
    public int NumHiddenLayers { get; init; } = 12;
    /// <summary>Number of attention heads per layer.</summary>
    public int NumAttentionHeads { get; init; } = 12;
    /// <summary>Input channels.</summary>
    public int NumChannels { get; init; } = 3;
    /// <summary>Input resolution (square).</summary>
    public int ImageSize { get; init; } = 224;
    /// <summary>Patch size (conv kernel and stride).</summary>
    public int PatchSize { get; init; } = 32;
    /// <summary>MLP activation: <c>gelu</c> (exact erf), <c>quick_gelu</c>, <c>gelu_new</c>/<c>gelu_pytorch_tanh</c>, <c>relu</c>.</summary>
    public string HiddenAct { get; init; } = "quick_gelu";
    /// <summary>LayerNorm epsilon.</summary>
    public double LayerNormEps { get; init; } = 1e-5;

    /// <summary>Width of one head.</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;
    /// <summary>Patches per side.</summary>
    public int PatchesPerSide => ImageSize / PatchSize;
    /// <summary>Tokens per image (patches + CLS).</summary>
    public int NumPositions => PatchesPerSide * PatchesPerSide + 1;

    /// <summary>The activation names this library implements.</summary>
    public static readonly string[] SupportedActivations = { "gelu", "quick_gelu", "gelu_new", "gelu_pytorch_tanh", "relu" };

    /// <summary>Reads <c>config.json</c> from a model folder or a file path.</summary>
    /// <exception cref="ConfigException">A bad value; the message names the file and key.</exception>
    public static ClipVisionConfig Load(string folderOrFile)
    {
        var path = Directory.Exists(folderOrFile) ? Path.Combine(folderOrFile, "config.json") : folderOrFile;
        return From(JsonConfig.Load(path));
    }

    /// <summary>Builds the config from parsed JSON (accepts a full CLIP config with a nested <c>vision_config</c>).</summary>
    internal static ClipVisionConfig From(JsonConfig json)
    {
        var v = json.GetObjectOrNull("vision_config") ?? json;
        var c = new ClipVisionConfig
        {
            HiddenSize = v.GetInt("hidden_size", 768, min: 1),
            IntermediateSize = v.GetInt("intermediate_size", 3072, min: 1),
            // In a full CLIP config projection_dim lives at the top level.
            ProjectionDim = v.GetIntOrNull("projection_dim", min: 1) ?? json.GetInt("projection_dim", 512, min: 1),
            NumHiddenLayers = v.GetInt("num_hidden_layers", 12, min: 1),
            NumAttentionHeads = v.GetInt("num_attention_heads", 12, min: 1),
            NumChannels = v.GetInt("num_channels", 3, min: 1),
            ImageSize = v.GetInt("image_size", 224, min: 1),
            PatchSize = v.GetInt("patch_size", 32, min: 1),
            HiddenAct = v.GetString("hidden_act", "quick_gelu", SupportedActivations),
            LayerNormEps = v.GetDouble("layer_norm_eps", 1e-5, min: 0),
        };
        if (c.HiddenSize % c.NumAttentionHeads != 0)
            throw v.Error("num_attention_heads", $"hidden_size {c.HiddenSize} is not divisible by {c.NumAttentionHeads} heads.");
        if (c.ImageSize % c.PatchSize != 0)
            throw v.Error("patch_size", $"image_size {c.ImageSize} is not divisible by patch_size {c.PatchSize}.");
        return c;
    }
}
