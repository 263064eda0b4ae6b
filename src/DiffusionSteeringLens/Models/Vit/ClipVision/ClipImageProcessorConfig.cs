using DiffusionSteeringLens.IO;
namespace DiffusionSteeringLens.Models.Vit.ClipVision;

/// <summary>
/// Hugging Face image-processor settings (<c>preprocessor_config.json</c>) for the resize → crop → rescale → normalise
/// pipeline of <c>CLIPImageProcessor</c>, which also covers <c>BitImageProcessor</c> (DINOv2: the same stages, ImageNet
/// mean/std in its config) and <c>ViTImageProcessor</c> (an exact height×width resize, no crop). Defaults are
/// transformers' for the <c>image_processor_type</c> named in the file.
/// </summary>
public sealed record ClipImageProcessorConfig
{
    /// <summary>OpenAI CLIP's normalisation mean — the one place the library spells it (the default of every CLIP processor).</summary>
    public static IReadOnlyList<double> OpenAiClipMean { get; } = new[] { 0.48145466, 0.4578275, 0.40821073 };

    /// <summary>OpenAI CLIP's normalisation std.</summary>
    public static IReadOnlyList<double> OpenAiClipStd { get; } = new[] { 0.26862954, 0.26130258, 0.27577711 };

    /// <summary>Resize so the shortest edge equals <see cref="ShortestEdge"/>.</summary>
    public bool DoResize { get; init; } = true;
    /// <summary>Target shortest edge in pixels.</summary>
    public int ShortestEdge { get; init; } = 224;
    /// <summary>
    /// Exact resize target height (ViTImageProcessor's <c>size: {height, width}</c>); null resizes the shortest edge to
    /// <see cref="ShortestEdge"/> instead.
    /// </summary>
    public int? ResizeHeight { get; init; }
    /// <summary>Exact resize target width; set together with <see cref="ResizeHeight"/>.</summary>
    public int? ResizeWidth { get; init; }
    /// <summary>PIL resample filter id (3 = bicubic, 2 = bilinear, 0 = nearest).</summary>
    public int Resample { get; init; } = 3;
    /// <summary>Centre-crop to <see cref="CropHeight"/>×<see cref="CropWidth"/>.</summary>
    public bool DoCenterCrop { get; init; } = true;
    /// <summary>Crop height.</summary>
    public int CropHeight { get; init; } = 224;
    /// <summary>Crop width.</summary>
    public int CropWidth { get; init; } = 224;
    /// <summary>Multiply by <see cref="RescaleFactor"/>.</summary>
    public bool DoRescale { get; init; } = true;
    /// <summary>Usually 1/255.</summary>
    public double RescaleFactor { get; init; } = 1.0 / 255.0;
    /// <summary>Normalise with <see cref="ImageMean"/>/<see cref="ImageStd"/>.</summary>
    public bool DoNormalize { get; init; } = true;
    /// <summary>Per-channel mean (OpenAI CLIP values by default).</summary>
    public double[] ImageMean { get; init; } = OpenAiClipMean.ToArray();
    /// <summary>Per-channel std.</summary>
    public double[] ImageStd { get; init; } = OpenAiClipStd.ToArray();

    /// <summary>The processor Kandinsky 2.2's prior uses, at a given resolution (224 for the real model).</summary>
    public static ClipImageProcessorConfig ForResolution(int size) =>
        new() { ShortestEdge = size, CropHeight = size, CropWidth = size };

    /// <summary>ImageNet mean (DINOv2's processor).</summary>
    internal static readonly double[] ImageNetMean = { 0.485, 0.456, 0.406 };
    /// <summary>ImageNet std (DINOv2's processor).</summary>
    internal static readonly double[] ImageNetStd = { 0.229, 0.224, 0.225 };

    /// <summary>
    /// A processor for an encoder family when its folder has no <c>preprocessor_config.json</c>: <c>vit</c> → exact
    /// resize to <paramref name="size"/>² (bilinear, mean/std 0.5, as ViTImageProcessor); <c>dinov2</c> → shortest edge and
    /// centre crop at <paramref name="size"/> with ImageNet mean/std; anything else → <see cref="ForResolution"/> (CLIP).
    /// </summary>
    public static ClipImageProcessorConfig ForFamily(string family, int size) => family switch
    {
        "vit" => new() { ResizeHeight = size, ResizeWidth = size, Resample = 2, DoCenterCrop = false, CropHeight = size, CropWidth = size,
            ImageMean = new[] { 0.5, 0.5, 0.5 }, ImageStd = new[] { 0.5, 0.5, 0.5 } },
        "dinov2" => ForResolution(size) with { ImageMean = ImageNetMean, ImageStd = ImageNetStd },
        _ => ForResolution(size),
    };

    /// <summary>Reads <c>preprocessor_config.json</c> from a folder or file.</summary>
    /// <exception cref="ConfigException">A bad value; the message names the file and key.</exception>
    public static ClipImageProcessorConfig Load(string folderOrFile)
    {
        var path = Directory.Exists(folderOrFile) ? Path.Combine(folderOrFile, "preprocessor_config.json") : folderOrFile;
        var j = JsonConfig.Load(path);
        // ViTImageProcessor resizes to an exact size and does not crop; its other defaults differ too.
        bool vitType = j.GetStringOrNull("image_processor_type") == "ViTImageProcessor";
        int shortest = 224;
        int? exactH = vitType ? 224 : null, exactW = vitType ? 224 : null;
        if (j.TryGet("size", out var size))
        {
            if (size.ValueKind == System.Text.Json.JsonValueKind.Number)
            {
                shortest = j.GetInt("size", 224, min: 1);
                if (vitType) exactH = exactW = shortest;
            }
            else
            {
                var sz = j.GetObjectOrNull("size")!;
                var edge = sz.GetIntOrNull("shortest_edge", min: 1);
                int? h = sz.GetIntOrNull("height", min: 1), w = sz.GetIntOrNull("width", min: 1);
                if (edge is int e) { shortest = e; exactH = exactW = null; }
                else if (h is int hh && w is int ww) { exactH = hh; exactW = ww; }
                else throw j.Error("size", "expected {\"shortest_edge\": N}, {\"height\": H, \"width\": W} or an integer.");
            }
        }
        var defaultMean = vitType ? new[] { 0.5, 0.5, 0.5 } : OpenAiClipMean.ToArray();
        var defaultStd = vitType ? new[] { 0.5, 0.5, 0.5 } : OpenAiClipStd.ToArray();
        int cropH = 224, cropW = 224;
        if (j.TryGet("crop_size", out var crop))
        {
            if (crop.ValueKind == System.Text.Json.JsonValueKind.Number) cropH = cropW = j.GetInt("crop_size", 224, min: 1);
            else
            {
                var c = j.GetObjectOrNull("crop_size")!;
                cropH = c.GetIntOrNull("height", min: 1) ?? throw j.Error("crop_size", "needs 'height' and 'width'.");
                cropW = c.GetIntOrNull("width", min: 1) ?? throw j.Error("crop_size", "needs 'height' and 'width'.");
            }
        }
        var cfg = new ClipImageProcessorConfig
        {
            DoResize = j.GetBool("do_resize", true),
            ShortestEdge = shortest,
            ResizeHeight = exactH,
            ResizeWidth = exactW,
            Resample = j.GetInt("resample", vitType ? 2 : 3, min: 0),
            DoCenterCrop = j.GetBool("do_center_crop", !vitType),
            CropHeight = cropH,
            CropWidth = cropW,
            DoRescale = j.GetBool("do_rescale", true),
            RescaleFactor = j.GetDouble("rescale_factor", 1.0 / 255.0, min: 0),
            DoNormalize = j.GetBool("do_normalize", true),
            ImageMean = j.GetDoubleArray("image_mean", defaultMean),
            ImageStd = j.GetDoubleArray("image_std", defaultStd),
        };
        if (cfg.ImageMean.Length != 3) throw j.Error("image_mean", $"expected 3 values, found {cfg.ImageMean.Length}.");
        if (cfg.ImageStd.Length != 3 || cfg.ImageStd.Any(s => s <= 0)) throw j.Error("image_std", "expected 3 positive values.");
        if (cfg.Resample is not (0 or 2 or 3)) throw j.Error("resample", $"PIL filter {cfg.Resample} is not supported (0 nearest, 2 bilinear, 3 bicubic).");
        return cfg;
    }
}
