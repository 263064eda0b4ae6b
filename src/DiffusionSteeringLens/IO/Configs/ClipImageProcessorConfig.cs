namespace DiffusionSteeringLens.IO.Configs;

/// <summary>Hugging Face <c>CLIPImageProcessor</c> settings (<c>preprocessor_config.json</c>). Defaults are transformers'.</summary>
public sealed record ClipImageProcessorConfig
{
    /// <summary>Resize so the shortest edge equals <see cref="ShortestEdge"/>.</summary>
    public bool DoResize { get; init; } = true;
    /// <summary>Target shortest edge in pixels.</summary>
    public int ShortestEdge { get; init; } = 224;
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
    public double[] ImageMean { get; init; } = { 0.48145466, 0.4578275, 0.40821073 };
    /// <summary>Per-channel std.</summary>
    public double[] ImageStd { get; init; } = { 0.26862954, 0.26130258, 0.27577711 };

    /// <summary>The processor Kandinsky 2.2's prior uses, at a given resolution (224 for the real model).</summary>
    public static ClipImageProcessorConfig ForResolution(int size) =>
        new() { ShortestEdge = size, CropHeight = size, CropWidth = size };

    /// <summary>Reads <c>preprocessor_config.json</c> from a folder or file.</summary>
    /// <exception cref="ConfigException">A bad value; the message names the file and key.</exception>
    public static ClipImageProcessorConfig Load(string folderOrFile)
    {
        var path = Directory.Exists(folderOrFile) ? Path.Combine(folderOrFile, "preprocessor_config.json") : folderOrFile;
        var j = JsonConfig.Load(path);
        int shortest = 224;
        if (j.TryGet("size", out var size))
        {
            if (size.ValueKind == System.Text.Json.JsonValueKind.Number) shortest = j.GetInt("size", 224, min: 1);
            else shortest = j.GetObjectOrNull("size")!.GetIntOrNull("shortest_edge", min: 1)
                            ?? throw j.Error("size", "only {\"shortest_edge\": N} (or an integer) is supported.");
        }
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
            Resample = j.GetInt("resample", 3, min: 0),
            DoCenterCrop = j.GetBool("do_center_crop", true),
            CropHeight = cropH,
            CropWidth = cropW,
            DoRescale = j.GetBool("do_rescale", true),
            RescaleFactor = j.GetDouble("rescale_factor", 1.0 / 255.0, min: 0),
            DoNormalize = j.GetBool("do_normalize", true),
            ImageMean = j.GetDoubleArray("image_mean", new[] { 0.48145466, 0.4578275, 0.40821073 }),
            ImageStd = j.GetDoubleArray("image_std", new[] { 0.26862954, 0.26130258, 0.27577711 }),
        };
        if (cfg.ImageMean.Length != 3) throw j.Error("image_mean", $"expected 3 values, found {cfg.ImageMean.Length}.");
        if (cfg.ImageStd.Length != 3 || cfg.ImageStd.Any(s => s <= 0)) throw j.Error("image_std", "expected 3 positive values.");
        if (cfg.Resample is not (0 or 2 or 3)) throw j.Error("resample", $"PIL filter {cfg.Resample} is not supported (0 nearest, 2 bilinear, 3 bicubic).");
        return cfg;
    }
}
