using System.Buffers.Binary;
using System.Text;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Tests.TestSupport;
using SkiaSharp;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Reliability;

/// <summary>The well-formed seed files the mutation test starts from: real fixtures plus small hand-made edge cases.</summary>
internal sealed class FuzzCorpus
{
    public required IReadOnlyList<byte[]> Safetensors { get; init; }
    public required IReadOnlyList<byte[]> Configs { get; init; }
    public required IReadOnlyList<byte[]> Pngs { get; init; }
    public required IReadOnlyList<byte[]> Jpegs { get; init; }

    public static FuzzCorpus Build(string folder)
    {
        return new FuzzCorpus
        {
            Safetensors = new[]
            {
                File.ReadAllBytes(Path.Combine(Fixtures.Golden("clip_vision"), "model.safetensors")),
                SmallMixedDTypes(folder),
                Unaligned(),
            },
            Configs = new[]
            {
                Path.Combine(Fixtures.Golden("clip_vision"), "config.json"),
                Path.Combine(Fixtures.Golden("clip_vision"), "preprocessor_config.json"),
                Path.Combine(Fixtures.Golden("unet"), "config.json"),
                Path.Combine(Fixtures.Golden("movq"), "config.json"),
                Path.Combine(Fixtures.Golden("scheduler"), "scheduler_config.json"),
                Path.Combine(Fixtures.Golden("scheduler"), "scheduler_config_learned_range.json"),
                Path.Combine(Fixtures.Golden("manifests"), "kandinsky22_unet.config.json"),
                Path.Combine(Fixtures.Golden("manifests"), "kandinsky22_movq.config.json"),
                Path.Combine(Fixtures.Golden("manifests"), "clip_vision_bigG.config.json"),
            }.Select(File.ReadAllBytes).ToArray(),
            Pngs = new[] { File.ReadAllBytes(Path.Combine(Fixtures.Golden("clip_vision"), "image_53x40.png")), Png(17, 9, seed: 1) },
            Jpegs = new[] { Encoded(23, 31, SKEncodedImageFormat.Jpeg, seed: 2), Encoded(16, 16, SKEncodedImageFormat.Jpeg, seed: 3), Encoded(12, 7, SKEncodedImageFormat.Webp, seed: 4) },
        };
    }

    private static byte[] SmallMixedDTypes(string folder)
    {
        var path = Path.Combine(folder, "seed-mixed.safetensors");
        using (var a = torch.arange(6, dtype: torch.float32).view(2, 3))
        using (var b = torch.ones(4, dtype: torch.float16))
        using (var c = torch.arange(2, dtype: torch.int64))
        using (var d = torch.arange(5, dtype: torch.uint8))
        using (var e = torch.zeros(3, dtype: torch.bfloat16))
        using (var f = torch.zeros(0, 4))
            SafetensorsWriter.Write(path, new Dictionary<string, torch.Tensor> { ["a"] = a, ["b.half"] = b, ["c"] = c, ["d"] = d, ["e"] = e, ["empty"] = f },
                new Dictionary<string, string> { ["format"] = "pt", ["note"] = "seed" });
        return File.ReadAllBytes(path);
    }

    /// <summary>A file whose F32 tensor starts at an odd offset (read by copy, not by mapping).</summary>
    private static byte[] Unaligned()
    {
        const string header = "{\"u8\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]},\"f\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[3,11]}}";
        var h = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + h.Length + 11];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)h.Length);
        h.CopyTo(file, 8);
        for (int i = 0; i < 11; i++) file[8 + h.Length + i] = (byte)(i * 37);
        return file;
    }

    private static byte[] Png(int width, int height, int seed)
    {
        var rgb = new byte[width * height * 3];
        new Random(seed).NextBytes(rgb);
        return ImageIO.EncodePngBytes(rgb, width, height);
    }

    private static byte[] Encoded(int width, int height, SKEncodedImageFormat format, int seed)
    {
        var random = new Random(seed);
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)random.Next(256), (byte)(x * 9), (byte)(y * 7)));
        using var data = bitmap.Encode(format, 85);
        return data.ToArray();
    }
}
