using System.Runtime.InteropServices;
using SkiaSharp;
using TorchSharp;

namespace DiffusionSteeringLens.Imaging;

/// <summary>
/// Decodes images into tensors and encodes tensors as PNG, with the pixel conventions of Pillow/numpy pipelines.
/// </summary>
/// <remarks>
/// <para>Decoding: any format Skia decodes (PNG, JPEG, WebP, GIF first frame, BMP…) becomes an RGB uint8 tensor
/// <c>[H, W, 3]</c>, like Pillow's <c>Image.open(p).convert("RGB")</c>: alpha is <b>dropped</b> (not composited),
/// colour values are kept unpremultiplied, no colour-profile/gamma conversion and no EXIF rotation is applied.
/// Grey and palette images are expanded to RGB. Known differences from Pillow: 16-bit PNG samples are reduced to
/// 8 bits by Skia's rule, and JPEG decoding may differ by a level where the decoders' IDCT/upsampling differ.</para>
/// <para>Float ↔ uint8: <c>float = uint8 / 255</c>; <c>uint8 = round(clamp(x, 0, 1) · 255)</c> with round half to
/// even (numpy's <c>(x * 255).round().astype("uint8")</c> after clipping, as diffusers' <c>numpy_to_pil</c> does).</para>
/// </remarks>
public static class ImageIO
{
    /// <summary>Reads an image file as RGB uint8 <c>[H, W, 3]</c>.</summary>
    /// <param name="path">Image file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ImageDecodeException">The file is not a decodable image (the message names the file).</exception>
    public static torch.Tensor LoadRgb(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) throw new ImageDecodeException(path, "is a folder, not an image file.");
        if (!File.Exists(path)) throw new FileNotFoundException($"Image file not found: {path}", path);
        byte[] data;
        try { data = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException(path, $"cannot read the file: {e.Message}", e);
        }
        return DecodeRgb(data, path);
    }

    /// <summary>Decodes an encoded image held in memory as RGB uint8 <c>[H, W, 3]</c>.</summary>
    /// <param name="encoded">Encoded bytes (PNG, JPEG, …).</param>
    /// <param name="sourceName">Label used in error messages (e.g. the original path).</param>
    /// <exception cref="ImageDecodeException">The bytes are not a decodable image.</exception>
    public static torch.Tensor DecodeRgb(ReadOnlySpan<byte> encoded, string sourceName = "<memory>")
    {
        var rgba = DecodeRgba(encoded, sourceName, out int width, out int height);
        var rgb = new byte[(long)width * height * 3];
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i];
            rgb[j + 1] = rgba[i + 1];
            rgb[j + 2] = rgba[i + 2];
        }
        return Uint8Pixels.FromArray(rgb, height, width, 3);
    }

    /// <summary>Decodes to unpremultiplied RGBA8888 bytes without colour conversion.</summary>
    internal static byte[] DecodeRgba(ReadOnlySpan<byte> encoded, string sourceName, out int width, out int height)
    {
        if (encoded.IsEmpty) throw new ImageDecodeException(sourceName, "the data is empty, not an image.");
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data)
            ?? throw new ImageDecodeException(sourceName, "not a recognised image format (expected PNG, JPEG, WebP, GIF or BMP).");
        width = codec.Info.Width;
        height = codec.Info.Height;
        if (width <= 0 || height <= 0) throw new ImageDecodeException(sourceName, $"invalid image size {width}x{height}.");
        ThrowIfBomb(sourceName, width, height, encoded.Length);
        // No colour space: Skia then decodes without any colour/gamma transform, as Pillow does.
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var pixels = new byte[(long)width * height * 4];
        var handle = GCHandle.Alloc(pixels, GCHandleType.Pinned);
        SKCodecResult result;
        try { result = codec.GetPixels(info, handle.AddrOfPinnedObject()); }
        finally { handle.Free(); }
        if (result != SKCodecResult.Success)
            throw new ImageDecodeException(sourceName, result == SKCodecResult.IncompleteInput
                ? "the image data is truncated."
                : $"decoding failed ({result}).");
        return pixels;
    }

    /// <summary>Pillow's decompression-bomb limit (2 × <c>Image.MAX_IMAGE_PIXELS</c>, where Pillow raises rather than warns).</summary>
    internal const long MaxPixels = 178_956_970;

    /// <summary>Decoded bytes any image may have regardless of its file size (a 2048×2048 RGBA picture).</summary>
    internal const long FreeDecodedBytes = 16L * 1024 * 1024;

    /// <summary>
    /// Decoded bytes allowed per encoded byte beyond <see cref="FreeDecodedBytes"/>. Deflate (PNG) cannot expand more
    /// than 1032:1 and a baseline JPEG stays under ~700:1 even for a flat picture, so 4096:1 refuses only headers that
    /// declare far more pixels than the file could hold.
    /// </summary>
    internal const long MaxExpansion = 4096;

    /// <summary>
    /// Refuses a header whose declared size the file cannot justify (a decompression bomb, or a corrupted size field),
    /// before the pixel buffer is allocated.
    /// </summary>
    private static void ThrowIfBomb(string sourceName, int width, int height, long encodedBytes)
    {
        long pixels = (long)width * height;
        if (pixels > MaxPixels)
            throw new ImageDecodeException(sourceName, $"declares {width}x{height} = {pixels} pixels, over the {MaxPixels}-pixel limit (a decompression bomb?).");
        long decoded = pixels * 4;
        long allowed = Math.Max(FreeDecodedBytes, encodedBytes * MaxExpansion);
        if (decoded > allowed)
            throw new ImageDecodeException(sourceName,
                $"declares {width}x{height} pixels ({decoded} bytes decoded), more than its {encodedBytes} bytes can hold (a decompression bomb or a corrupt header).");
    }

    /// <summary>RGB uint8 <c>[H, W, 3]</c> → float32 <c>[3, H, W]</c> in [0, 1] (value / 255).</summary>
    /// <exception cref="ArgumentException">Not a uint8 <c>[H, W, 3]</c> tensor.</exception>
    public static torch.Tensor ToFloatChw(torch.Tensor rgbHwc)
    {
        RequireUint8Hwc(rgbHwc, nameof(rgbHwc));
        using var scope = torch.NewDisposeScope();
        var result = rgbHwc.permute(2, 0, 1).to(torch.float32).div(255.0f).contiguous();
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Float <c>[3, H, W]</c> in [0, 1] → RGB uint8 <c>[H, W, 3]</c> via <c>round(clamp(x, 0, 1) · 255)</c>
    /// (round half to even, as numpy).
    /// </summary>
    /// <exception cref="ArgumentException">Not a floating-point <c>[3, H, W]</c> tensor, or it contains NaN.</exception>
    public static torch.Tensor ToUint8Hwc(torch.Tensor imageChw)
    {
        ArgumentNullException.ThrowIfNull(imageChw);
        if (!imageChw.is_floating_point() || imageChw.dim() != 3 || imageChw.shape[0] != 3)
            throw new ArgumentException($"expected a floating-point [3,H,W] image, got {imageChw.dtype} {Uint8Pixels.Shape(imageChw)}.", nameof(imageChw));
        using var scope = torch.NewDisposeScope();
        var x = imageChw.detach().cpu().to(torch.float32);
        if (x.isnan().any().item<bool>()) throw new ArgumentException($"image {Uint8Pixels.Shape(imageChw)} contains NaN.", nameof(imageChw));
        var u8 = x.clamp(0.0, 1.0).mul(255.0f).round().to(torch.uint8).permute(1, 2, 0).contiguous();
        return u8.MoveToOuterDisposeScope();
    }

    /// <summary>Encodes an image as PNG bytes: a float <c>[3, H, W]</c> in [0, 1] or an RGB uint8 <c>[H, W, 3]</c>.</summary>
    /// <exception cref="ArgumentException">Unsupported shape or dtype (the message gives both).</exception>
    public static byte[] EncodePng(torch.Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var hwc = AsUint8Hwc(image, nameof(image));
        return EncodePngBytes(Uint8Pixels.ToArray(hwc), (int)hwc.shape[1], (int)hwc.shape[0]);
    }

    /// <summary>Writes an image as PNG atomically (temporary file, then rename): a float <c>[3, H, W]</c> in [0, 1] or an RGB uint8 <c>[H, W, 3]</c>.</summary>
    /// <param name="image">Image tensor.</param>
    /// <param name="path">Destination; its folder is created if needed. On failure no partial file is left at <paramref name="path"/>.</param>
    /// <exception cref="ArgumentException">Unsupported shape or dtype.</exception>
    public static void SavePng(torch.Tensor image, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        WriteAtomically(path, EncodePng(image));
    }

    /// <summary>Writes item <paramref name="index"/> of a float batch <c>[B, 3, H, W]</c> in [0, 1] as PNG (atomically).</summary>
    /// <exception cref="ArgumentException">Not a floating-point <c>[B, 3, H, W]</c> tensor.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside the batch.</exception>
    public static void SavePng(torch.Tensor batch, int index, string path)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!batch.is_floating_point() || batch.dim() != 4 || batch.shape[1] != 3)
            throw new ArgumentException($"expected a floating-point [B,3,H,W] batch, got {batch.dtype} {Uint8Pixels.Shape(batch)}.", nameof(batch));
        if (index < 0 || index >= batch.shape[0])
            throw new ArgumentOutOfRangeException(nameof(index), index, $"batch {Uint8Pixels.Shape(batch)} has {batch.shape[0]} items.");
        using var item = batch[index];
        SavePng(item, path);
    }

    /// <summary>Float [3,H,W] or uint8 [H,W,3] → new uint8 [H,W,3] CPU tensor.</summary>
    internal static torch.Tensor AsUint8Hwc(torch.Tensor image, string paramName)
    {
        if (image.dtype == torch.uint8 && image.dim() == 3 && image.shape[2] == 3)
            return Uint8Pixels.CpuCopy(image);
        if (image.is_floating_point() && image.dim() == 3 && image.shape[0] == 3)
            return ToUint8Hwc(image);
        throw new ArgumentException(
            $"expected a floating-point [3,H,W] image in [0,1] or a uint8 [H,W,3] image, got {image.dtype} {Uint8Pixels.Shape(image)}.", paramName);
    }

    internal static byte[] EncodePngBytes(byte[] rgb, int width, int height)
    {
        if (width < 1 || height < 1) throw new ArgumentException($"cannot encode an empty {width}x{height} image.");
        var rgba = new byte[(long)width * height * 4];
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgba[i] = rgb[j];
            rgba[i + 1] = rgb[j + 1];
            rgba[i + 2] = rgb[j + 2];
            rgba[i + 3] = 255;
        }
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            using var pixmap = new SKPixmap(info, handle.AddrOfPinnedObject(), width * 4);
            using var encoded = pixmap.Encode(SKPngEncoderOptions.Default)
                ?? throw new IOException($"PNG encoding of a {width}x{height} image failed.");
            return encoded.ToArray();
        }
        finally { handle.Free(); }
    }

    /// <summary>Writes bytes to a temporary file next to <paramref name="path"/> and renames it into place.</summary>
    internal static void WriteAtomically(string path, ReadOnlySpan<byte> bytes)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var tmp = $"{full}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { /* best effort */ }
            throw;
        }
    }

    private static void RequireUint8Hwc(torch.Tensor t, string paramName)
    {
        ArgumentNullException.ThrowIfNull(t, paramName);
        if (t.dtype != torch.uint8 || t.dim() != 3 || t.shape[2] != 3)
            throw new ArgumentException($"expected a uint8 [H,W,3] RGB image, got {t.dtype} {Uint8Pixels.Shape(t)}.", paramName);
    }
}
