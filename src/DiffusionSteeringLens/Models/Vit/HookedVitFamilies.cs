using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Models.Vit.Dinov2;
using DiffusionSteeringLens.Models.Vit.ViT;
using DiffusionSteeringLens.Runtime;

namespace DiffusionSteeringLens.Models.Vit;

/// <summary>
/// The encoder families this library loads from a Hugging Face folder, told apart by <c>config.json</c>'s
/// <c>model_type</c> and <c>architectures</c>: CLIP vision (<c>clip_vision</c>), <c>ViTForImageClassification</c>
/// (<c>vit</c>) and <c>Dinov2Model</c> (<c>dinov2</c>).
/// </summary>
public static class HookedVitFamilies
{
    /// <summary>Family name of CLIP vision towers (<see cref="ClipVisionModelWithProjection"/>).</summary>
    public const string ClipVision = "clip_vision";
    /// <summary>Family name of <see cref="ViTForImageClassification"/>.</summary>
    public const string Vit = "vit";
    /// <summary>Family name of <see cref="Dinov2Model"/>.</summary>
    public const string Dinov2 = "dinov2";

    private static readonly string[] ClipArchitectures = { "CLIPVisionModelWithProjection", "CLIPVisionModel", "CLIPModel" };

    /// <summary>
    /// The family of a model folder (or config file). A config with neither <c>model_type</c> nor <c>architectures</c>
    /// is taken as CLIP vision, the library's original family.
    /// </summary>
    /// <exception cref="ConfigException">An unsupported family; the message names what the config says and what is supported.</exception>
    public static string Detect(string folderOrFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(folderOrFile);
        var path = Directory.Exists(folderOrFile) ? Path.Combine(folderOrFile, "config.json") : folderOrFile;
        var json = JsonConfig.Load(path);
        var modelType = json.GetStringOrNull("model_type");
        var architectures = json.GetStringArray("architectures", Array.Empty<string>());
        const string supported = "supported: CLIPVisionModelWithProjection (clip_vision_model / clip), ViTForImageClassification (vit), Dinov2Model (dinov2)";
        switch (modelType)
        {
            case null when architectures.Length == 0:
            case "clip_vision_model" or "clip":
                return ClipVision;
            case "vit":
                if (architectures.Length > 0 && !architectures.Contains("ViTForImageClassification"))
                    throw json.Error("architectures", $"ViT checkpoint '{string.Join(", ", architectures)}' has no classifier head; only ViTForImageClassification is supported ({supported}).");
                return Vit;
            case "dinov2":
                if (architectures.Length > 0 && !architectures.Contains("Dinov2Model"))
                    throw json.Error("architectures", $"DINOv2 checkpoint '{string.Join(", ", architectures)}' is not a plain Dinov2Model ({supported}).");
                return Dinov2;
            case null:
                if (architectures.Any(ClipArchitectures.Contains)) return ClipVision;
                if (architectures.Contains("ViTForImageClassification")) return Vit;
                if (architectures.Contains("Dinov2Model")) return Dinov2;
                throw json.Error("architectures", $"unsupported encoder '{string.Join(", ", architectures)}' ({supported}).");
            default:
                throw json.Error("model_type", $"unsupported encoder family '{modelType}' ({supported}).");
        }
    }

    /// <summary>Loads a model folder as the family <see cref="Detect"/> finds.</summary>
    /// <param name="folder">The model folder (<c>config.json</c> + weights).</param>
    /// <param name="options">Device, dtype.</param>
    /// <param name="inputSize">DINOv2 only: the input resolution (e.g. its processor's crop size); the config's when null.</param>
    /// <exception cref="ConfigException">Unsupported family or bad config.</exception>
    /// <exception cref="StateDictMismatchException">The weights do not fit the config.</exception>
    public static HookedVitModel FromPretrained(string folder, ModelLoadOptions? options = null, int? inputSize = null) => Detect(folder) switch
    {
        Vit => ViTForImageClassification.FromPretrained(folder, options),
        Dinov2 => Dinov2Model.FromPretrained(folder, options, inputSize),
        _ => ClipVisionModelWithProjection.FromPretrained(folder, options),
    };
}
