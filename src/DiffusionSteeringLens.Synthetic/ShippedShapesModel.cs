using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.Models.Kandinsky;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Synthetic;

/// <summary>
/// The small encoder + decoder trained on <see cref="ShapeDomain"/> and shipped with the repository
/// (<c>samples/models/shapes32</c>): the default model when the real Kandinsky 2.2 weights are not available. It uses the
/// same classes as the real thing (<see cref="ClipVisionModelWithProjection"/>, a pixel-space
/// <see cref="KandinskyV22Decoder"/>), in the same on-disk layouts.
/// </summary>
public static class ShippedShapesModel
{
    /// <summary>The model folder relative to the repository root.</summary>
    public const string RelativePath = "samples/models/shapes32";

    /// <summary>CLIP's normalisation mean (the model's <c>preprocessor_config.json</c>).</summary>
    public static IReadOnlyList<double> ImageMean => ClipImageProcessorConfig.OpenAiClipMean;

    /// <summary>CLIP's normalisation std.</summary>
    public static IReadOnlyList<double> ImageStd => ClipImageProcessorConfig.OpenAiClipStd;

    /// <summary>
    /// Sampling settings the shipped numbers were measured with: DDPM 25 steps, guidance 4, 32×32 (the scheduler config
    /// has <c>clip_sample</c> on).
    /// </summary>
    public static KandinskyDecodeOptions DecodeOptions { get; } = new()
    {
        NumInferenceSteps = 25, GuidanceScale = 4, Height = ShapeDomain.ImageSize, Width = ShapeDomain.ImageSize,
    };

    /// <summary>
    /// The model folder (see <see cref="ShippedModels.Require"/>: beside the application or above
    /// <paramref name="startDirectory"/>, default the app's base directory, then the current directory).
    /// </summary>
    /// <exception cref="ShippedModelNotFoundException">The folder is not found (e.g. an application running outside this
    /// repository that did not copy <c>samples/models/shapes32</c> next to itself); the message says where it looked.</exception>
    public static string Require(string? startDirectory = null) => ShippedModels.Require(ShippedModels.Shapes32, startDirectory);

    /// <summary>Loads the encoder (strict key check) from the model folder.</summary>
    public static ClipVisionModelWithProjection LoadEncoder(string folder, ModelLoadOptions? options = null) =>
        ClipVisionModelWithProjection.FromPretrained(Path.Combine(folder, "encoder"), options);

    /// <summary>Loads the pixel-space decoder (UNet + DDPM scheduler, identity latent decoder) from the model folder.</summary>
    public static KandinskyV22Decoder LoadDecoder(string folder, ModelLoadOptions? options = null) =>
        KandinskyV22Decoder.FromPretrained(Path.Combine(folder, "decoder"), options);

    /// <summary>
    /// Images [B, 3, 32, 32] in [0, 1] → float32 encoder pixel values: <c>(x − mean) / std</c> with CLIP's mean/std
    /// (<see cref="ClipImageProcessor.PreprocessFloat"/>; no resize is needed at 32 px, and none is done at any size).
    /// </summary>
    public static Tensor Preprocess(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        return Normaliser.PreprocessFloat(images);
    }

    // Normalise only: the shipped pictures are already at the encoder's size, and callers rely on no resampling.
    private static readonly ClipImageProcessor Normaliser = new(new ClipImageProcessorConfig
    {
        DoResize = false, DoCenterCrop = false, ImageMean = ImageMean.ToArray(), ImageStd = ImageStd.ToArray(),
    });
}
