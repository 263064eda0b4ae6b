using System.Text.Json.Nodes;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Synthetic;
using DiffusionSteeringLens.Tests.TestSupport;
using SkiaSharp;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Docs;

/// <summary>
/// What the placeholder paths of the doc snippets are bound to: tiny model folders in the real Hugging Face layouts and
/// small image files, written into a snippet's working directory before it runs.
/// </summary>
/// <remarks>
/// The "tiny Kandinsky 2.2" folders are <see cref="RandomCheckpoint"/> folders (what <c>dsl make-random</c> writes) built
/// from the real Kandinsky 2.2 configs (<c>Fixtures/golden/manifests</c>, the same files as <c>benchmarks/configs</c>)
/// with the widths shrunk: same classes, key names, file names and dtypes (the encoder float16), CLIP's preprocessing,
/// the real DDPM scheduler config and a 4-level (8×) MoVQ with spatial norms, so a 512 × 512 picture decodes a 64 × 64
/// latent as the real one does (the MoVQ's full-resolution convolutions, 32 channels because the spatial norm has 32
/// groups, are most of a picture's time). The UNet has Kandinsky's four levels and block classes, with attention moved
/// one level down (see <see cref="TinyKandinskyDecoder"/>). Depth and heads per layer are the caller's: 48 × 16 is ViT-bigG/14's, so the real model's head names
/// (L36H4, L47H14) exist. The weights are random; the pictures are noise, which is all a run check needs. The
/// <c>path/to/…</c> placeholders of the API guide are copies of the shipped, trained shapes32 model (32 px pictures).
/// </remarks>
internal static class DocSandbox
{
    /// <summary>Width of the tiny encoder's CLIP embedding (= the tiny UNet's <c>encoder_hid_dim</c>).</summary>
    private const int EmbeddingDim = 16;

    /// <summary>Input size of the tiny encoder: two 14-px patches a side, as ViT-bigG/14's patches.</summary>
    public const int TinyImageSize = 28;

    private static string Manifest(string name) => Path.Combine(Fixtures.Golden("manifests"), name);

    /// <summary>A random-init <c>CLIPVisionModelWithProjection</c> folder with ViT-bigG/14's config, shrunk to width 32.</summary>
    public static void TinyKandinskyEncoder(string folder, int layers, int heads)
    {
        var config = Shrink(Manifest("clip_vision_bigG.config.json"), c =>
        {
            c["num_hidden_layers"] = layers;
            c["num_attention_heads"] = heads;
            c["hidden_size"] = 32;
            c["intermediate_size"] = 64;
            c["projection_dim"] = EmbeddingDim;
            c["image_size"] = TinyImageSize;
        });
        Write(RandomCheckpointKind.ImageEncoder, config, folder);
        ImageProcessor(folder);   // the encoder folder also carries it, as dsl make-random writes it
    }

    /// <summary>CLIP's <c>preprocessor_config.json</c> (Kandinsky 2.2's image_processor) at the tiny encoder's size.</summary>
    public static void ImageProcessor(string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "preprocessor_config.json"), $$"""
            {
              "crop_size": { "height": {{TinyImageSize}}, "width": {{TinyImageSize}} },
              "do_center_crop": true, "do_convert_rgb": true, "do_normalize": true, "do_rescale": true, "do_resize": true,
              "image_mean": [0.48145466, 0.4578275, 0.40821073],
              "image_processor_type": "CLIPImageProcessor",
              "image_std": [0.26862954, 0.26130258, 0.27577711],
              "resample": 3, "rescale_factor": 0.00392156862745098,
              "size": { "shortest_edge": {{TinyImageSize}} }
            }
            """);
    }

    /// <summary>A random-init Kandinsky 2.2 decoder folder: <c>unet/</c>, <c>movq/</c>, <c>scheduler/</c>.</summary>
    public static void TinyKandinskyDecoder(string folder)
    {
        var unet = Shrink(Manifest("kandinsky22_unet.config.json"), c =>
        {
            c["block_out_channels"] = new JsonArray(8, 16, 16, 16);
            c["layers_per_block"] = 1;
            c["norm_num_groups"] = 4;
            c["attention_head_dim"] = 4;
            c["cross_attention_dim"] = 16;
            c["encoder_hid_dim"] = EmbeddingDim;
            // Kandinsky's block classes, but attention only from the third level on (16 × 16 tokens at 512 px, not
            // 32 × 32): at 32 × 32 a tiny UNet step took 1.2 s instead of 30 ms on the project machine.
            c["down_block_types"] = new JsonArray("ResnetDownsampleBlock2D", "ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D", "SimpleCrossAttnDownBlock2D");
            c["up_block_types"] = new JsonArray("SimpleCrossAttnUpBlock2D", "SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D", "ResnetUpsampleBlock2D");
        });
        Write(RandomCheckpointKind.Unet, unet, Path.Combine(folder, "unet"));
        var movq = Shrink(Manifest("kandinsky22_movq.config.json"), c =>
        {
            c["block_out_channels"] = new JsonArray(32, 32, 32, 32);   // diffusers' spatial norm has 32 groups
            c["layers_per_block"] = 1;
            c["num_vq_embeddings"] = 16;
        });
        Write(RandomCheckpointKind.MoVq, movq, Path.Combine(folder, "movq"));
        var scheduler = Path.Combine(folder, "scheduler");
        Directory.CreateDirectory(scheduler);
        File.Copy(Path.Combine(Fixtures.Golden("pipeline"), "scheduler_config.json"), Path.Combine(scheduler, "scheduler_config.json"));
    }

    /// <summary>A copy of a shipped model's sub-folder (e.g. <c>shapes32/encoder</c>), so a snippet can never write into the repository.</summary>
    public static void ShippedModelFolder(string folder, string model, string part) =>
        CopyFolder(Path.Combine(ShippedModels.Require(model, AppContext.BaseDirectory), part), folder);

    /// <summary>A copy of one file of a shipped model (e.g. <c>shapes32/encoder/preprocessor_config.json</c>) into <paramref name="folder"/>.</summary>
    public static void ShippedModelFile(string folder, string model, string file)
    {
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(ShippedModels.Require(model, AppContext.BaseDirectory), file), Path.Combine(folder, Path.GetFileName(file)));
    }

    /// <summary><paramref name="count"/> shapes-domain pictures (32 × 32 PNG files) drawn with <paramref name="seed"/>.</summary>
    public static void ShapeImages(string folder, int count, int seed)
    {
        Directory.CreateDirectory(folder);
        using var scope = torch.NewDisposeScope();
        using var images = ShapeDomain.Render(ShapeDomain.Sample(count, seed));
        for (int i = 0; i < count; i++)
            ImageIO.SavePng(images, i, Path.Combine(folder, $"{i:D2}.png"));
    }

    /// <summary>One shapes-domain picture as a PNG or (by extension) JPEG file.</summary>
    public static void ShapeImage(string path, int seed)
    {
        using var scope = torch.NewDisposeScope();
        using var images = ShapeDomain.Render(ShapeDomain.Sample(1, seed));
        var png = ImageIO.EncodePng(images[0]);
        if (path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
        {
            File.WriteAllBytes(path, png);
            return;
        }
        using var bitmap = SKBitmap.Decode(png);
        using var image = SKImage.FromBitmap(bitmap);
        using var jpeg = image.Encode(SKEncodedImageFormat.Jpeg, 95);
        File.WriteAllBytes(path, jpeg.ToArray());
    }

    private static void Write(RandomCheckpointKind kind, string configJson, string folder)
    {
        var config = Path.Combine(Path.GetTempPath(), $"dsl-doc-config-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(config, configJson);
            RandomCheckpoint.Write(kind, config, folder, seed: 16);
        }
        finally { File.Delete(config); }
    }

    private static string Shrink(string realConfig, Action<JsonObject> edit)
    {
        var config = JsonNode.Parse(File.ReadAllText(realConfig))!.AsObject();
        edit(config);
        return config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    private static void CopyFolder(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
