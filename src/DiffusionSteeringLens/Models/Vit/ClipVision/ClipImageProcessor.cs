using DiffusionSteeringLens.Imaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;

namespace DiffusionSteeringLens.Models.Vit.ClipVision;

/// <summary>
/// Hugging Face <c>CLIPImageProcessor</c> (transformers 4.35) for RGB uint8 images: convert to RGB → shortest-edge
/// resize with Pillow's resampler on uint8 → centre crop → rescale → normalise → NCHW float32 <c>pixel_values</c>.
/// The same stages, configured by <see cref="ClipImageProcessorConfig.Load"/>, are DINOv2's <c>BitImageProcessor</c>
/// and ViT's <c>ViTImageProcessor</c> (exact <see cref="ClipImageProcessorConfig.ResizeHeight"/>×width resize, no crop).
/// </summary>
/// <remarks>
/// <para>Resize: the short side becomes <c>S</c> and the long side <c>int(S · long / short)</c> (truncated); the
/// resampling is <see cref="PilResampler"/>, bit-exact with Pillow.</para>
/// <para>Centre crop: top = <c>(h − cropH) // 2</c>, left = <c>(w − cropW) // 2</c> (floor division). An image smaller
/// than the crop is zero-padded the way transformers does it; where transformers' padding arithmetic would return an
/// image smaller than the crop (an odd size deficit) an <see cref="ArgumentException"/> is thrown instead.</para>
/// <para>Rescale and normalise follow numpy: <c>float32(uint8 · rescale_factor)</c> computed in double, then
/// <c>(x − mean) / std</c> in float32.</para>
/// </remarks>
public sealed class ClipImageProcessor
{
    private readonly ILogger<ClipImageProcessor> _logger;

    /// <summary>Creates the processor.</summary>
    /// <param name="config">Settings, e.g. from <see cref="ClipImageProcessorConfig.Load"/>.</param>
    /// <param name="logger">Optional logger (batch progress at debug level).</param>
    public ClipImageProcessor(ClipImageProcessorConfig config, ILogger<ClipImageProcessor>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _logger = logger ?? NullLogger<ClipImageProcessor>.Instance;
        Filter = config.Resample switch
        {
            0 => PilResampleFilter.Nearest,
            2 => PilResampleFilter.Bilinear,
            3 => PilResampleFilter.Bicubic,
            _ => throw new ArgumentException($"PIL resample filter {config.Resample} is not supported (0 nearest, 2 bilinear, 3 bicubic).", nameof(config)),
        };
        if (config.ImageMean.Length != 3 || config.ImageStd.Length != 3)
            throw new ArgumentException("image_mean and image_std need 3 values each.", nameof(config));
    }

    /// <summary>Reads <c>preprocessor_config.json</c> from a folder or file and creates the processor.</summary>
    public static ClipImageProcessor Load(string folderOrFile, ILogger<ClipImageProcessor>? logger = null) =>
        new(ClipImageProcessorConfig.Load(folderOrFile), logger);

    /// <summary>The settings.</summary>
    public ClipImageProcessorConfig Config { get; }

    /// <summary>The Pillow filter selected by <see cref="ClipImageProcessorConfig.Resample"/>.</summary>
    internal PilResampleFilter Filter { get; }

    /// <summary>Output size of the shortest-edge resize: <c>(height, width)</c>, long side truncated as in transformers.</summary>
    public static (int Height, int Width) ShortestEdgeSize(int height, int width, int shortestEdge)
    {
        if (height < 1 || width < 1) throw new ArgumentException($"image size {height}x{width} must be positive.");
        if (shortestEdge < 1) throw new ArgumentOutOfRangeException(nameof(shortestEdge), shortestEdge, "must be positive.");
        bool portrait = width <= height;
        long shortSide = portrait ? width : height, longSide = portrait ? height : width;
        int newLong = (int)((double)(shortestEdge * longSide) / shortSide);
        return portrait ? (newLong, shortestEdge) : (shortestEdge, newLong);
    }

    /// <summary>Preprocesses an image file into <c>[1, 3, H, W]</c> float32.</summary>
    /// <exception cref="FileNotFoundException">Missing file.</exception>
    /// <exception cref="ImageDecodeException">Not a decodable image.</exception>
    public torch.Tensor Preprocess(string path)
    {
        using var rgb = ImageIO.LoadRgb(path);
        return Preprocess(rgb);
    }

    /// <summary>Preprocesses an RGB uint8 <c>[H, W, 3]</c> image into <c>[1, 3, H, W]</c> float32.</summary>
    /// <exception cref="ArgumentException">Not a uint8 <c>[H, W, 3]</c> tensor, or the crop cannot be formed.</exception>
    public torch.Tensor Preprocess(torch.Tensor rgbHwc)
    {
        using var cropped = ResizeAndCrop(rgbHwc, out var resized);
        resized.Dispose();
        return RescaleAndNormalize(cropped).unsqueeze_(0);
    }

    /// <summary>Preprocesses image files into one <c>[B, 3, H, W]</c> float32 batch.</summary>
    /// <exception cref="ArgumentException">Empty list, or the images end up with different sizes (centre crop off).</exception>
    public torch.Tensor Preprocess(IReadOnlyList<string> paths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        return Batch(paths.Count, i =>
        {
            using var rgb = ImageIO.LoadRgb(paths[i]);
            return Preprocess(rgb);
        }, i => paths[i], cancellationToken);
    }

    /// <summary>Preprocesses RGB uint8 <c>[H, W, 3]</c> images into one <c>[B, 3, H, W]</c> float32 batch.</summary>
    /// <exception cref="ArgumentException">Empty list, a bad tensor, or the images end up with different sizes.</exception>
    public torch.Tensor Preprocess(IReadOnlyList<torch.Tensor> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        return Batch(images.Count, i => Preprocess(images[i]), i => $"image {i}", cancellationToken);
    }

    /// <summary>
    /// Preprocesses a float batch of pictures <c>[B, 3, H, W]</c> in [0, 1] (uint8 / 255, as
    /// <see cref="ImageIO.ToFloatChw"/> makes them) into float32 <c>pixel_values</c> <c>[B, 3, H, W]</c>: the rescale and
    /// normalise stages of <see cref="Preprocess(torch.Tensor)"/>, on floats.
    /// </summary>
    /// <remarks>
    /// <para>No resampling: the resize stage is Pillow's, on uint8, and is not reproduced on floats. Instead every
    /// configured stage must leave the size unchanged (e.g. a square picture at the crop size when the shortest edge
    /// equals it); other sizes throw. Resize such pictures yourself first, or use the uint8 path.</para>
    /// <para>Values: <c>x · (255 · rescale_factor)</c> (255 when rescaling is off, as uint8 values would be; skipped when
    /// the factor is exactly 1, as for 1/255), then <c>(x − mean) / std</c> in float32 with mean/std rounded to float32, on
    /// the input's device. The result is a new tensor and is not detached. Against the uint8 path on the same picture only
    /// the conversion to [0, 1] differs (float32 <c>u / 255</c> here, <c>float32(u · (1/255))</c> computed in double
    /// there): at most one float32 ulp before normalising.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">Not a floating-point <c>[B, 3, H, W]</c> tensor, or a size the resize or crop
    /// stage would change.</exception>
    public torch.Tensor PreprocessFloat(torch.Tensor pictures)
    {
        ArgumentNullException.ThrowIfNull(pictures);
        if (!torch.is_floating_point(pictures) || pictures.dim() != 4 || pictures.shape[1] != 3)
            throw new ArgumentException($"expected a floating-point [B,3,H,W] batch, got {pictures.dtype} {Uint8Pixels.Shape(pictures)}.", nameof(pictures));
        RequireUnchangedSize((int)pictures.shape[2], (int)pictures.shape[3]);
        using var scope = torch.NewDisposeScope();
        var x = pictures.to(torch.float32);
        bool changed = false;
        double scale = Config.DoRescale ? 255.0 * Config.RescaleFactor : 255.0;
        if (scale != 1.0) { x = x.mul((float)scale); changed = true; }
        if (Config.DoNormalize)
        {
            var mean = torch.tensor(Config.ImageMean, torch.float64).to(torch.float32).to(x.device).view(1, 3, 1, 1);
            var std = torch.tensor(Config.ImageStd, torch.float64).to(torch.float32).to(x.device).view(1, 3, 1, 1);
            x = x.sub(mean).div(std);
            changed = true;
        }
        // to(float32) may return the input itself; the caller must get a tensor of its own.
        if (!changed) x = x.clone();
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Runs every stage on one image and keeps the intermediates.</summary>
    internal ClipPreprocessTrace Trace(torch.Tensor rgbHwc)
    {
        RequireRgb(rgbHwc);
        var input = Uint8Pixels.CpuCopy(rgbHwc);
        torch.Tensor? resized = null, cropped = null;
        try
        {
            cropped = ResizeAndCrop(input, out resized);
            var pixels = RescaleAndNormalize(cropped).unsqueeze_(0);
            return new ClipPreprocessTrace(input, resized, cropped, pixels);
        }
        catch
        {
            input.Dispose();
            resized?.Dispose();
            cropped?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Shortest-edge (or, when configured, exact height×width) resize of an RGB uint8 <c>[H, W, 3]</c> image (a copy when
    /// resizing is off or the size is unchanged).
    /// </summary>
    public torch.Tensor Resize(torch.Tensor rgbHwc)
    {
        RequireRgb(rgbHwc);
        if (!Config.DoResize) return Uint8Pixels.CpuCopy(rgbHwc);
        if (Config.ResizeHeight is int exactH && Config.ResizeWidth is int exactW)
            return PilResampler.Resize(rgbHwc, exactW, exactH, Filter);
        var (h, w) = ShortestEdgeSize((int)rgbHwc.shape[0], (int)rgbHwc.shape[1], Config.ShortestEdge);
        return PilResampler.Resize(rgbHwc, w, h, Filter);
    }

    /// <summary>Centre crop of a uint8 <c>[H, W, C]</c> image to the configured crop size (zero padding as transformers; a copy when cropping is off).</summary>
    /// <exception cref="ArgumentException">transformers' padding arithmetic would yield a smaller image than the crop.</exception>
    public torch.Tensor CenterCrop(torch.Tensor imageHwc)
    {
        ArgumentNullException.ThrowIfNull(imageHwc);
        if (imageHwc.dim() != 3) throw new ArgumentException($"expected an [H,W,C] image, got {Uint8Pixels.Shape(imageHwc)}.", nameof(imageHwc));
        if (!Config.DoCenterCrop) return Uint8Pixels.CpuCopy(imageHwc);
        int h = (int)imageHwc.shape[0], w = (int)imageHwc.shape[1], ch = Config.CropHeight, cw = Config.CropWidth;
        int top = FloorHalf(h - ch), left = FloorHalf(w - cw);
        using var scope = torch.NewDisposeScope();
        if (top >= 0 && top + ch <= h && left >= 0 && left + cw <= w)
            return imageHwc.detach().cpu().narrow(0, top, ch).narrow(1, left, cw).contiguous().clone().MoveToOuterDisposeScope();
        // Image smaller than the crop: transformers pads with zeros, then slices with clamped bounds.
        int newH = Math.Max(ch, h), newW = Math.Max(cw, w);
        int padTop = (newH - h) / 2, padLeft = (newW - w) / 2;
        int t0 = Math.Max(0, top + padTop), t1 = Math.Min(newH, top + padTop + ch);
        int l0 = Math.Max(0, left + padLeft), l1 = Math.Min(newW, left + padLeft + cw);
        if (t1 - t0 != ch || l1 - l0 != cw)
            throw new ArgumentException(
                $"a {h}x{w} image cannot be centre-cropped to {ch}x{cw}: transformers would zero-pad it and return {t1 - t0}x{l1 - l0}. " +
                "Resize to at least the crop size first (shortest_edge ≥ crop size).", nameof(imageHwc));
        var padded = torch.zeros(new long[] { newH, newW, imageHwc.shape[2] }, imageHwc.dtype);
        padded.narrow(0, padTop, h).narrow(1, padLeft, w).copy_(imageHwc.detach().cpu());
        var result = padded.narrow(0, t0, ch).narrow(1, l0, cw).contiguous().clone();
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// uint8 <c>[H, W, 3]</c> → float32 <c>[3, H, W]</c>: <c>float32(x · rescale_factor)</c> (if rescaling), then
    /// <c>(x − mean) / std</c> in float32 (if normalising).
    /// </summary>
    public torch.Tensor RescaleAndNormalize(torch.Tensor rgbHwc)
    {
        RequireRgb(rgbHwc);
        using var scope = torch.NewDisposeScope();
        var x = Config.DoRescale
            ? rgbHwc.detach().cpu().to(torch.float64).mul(Config.RescaleFactor).to(torch.float32)
            : rgbHwc.detach().cpu().to(torch.float32);
        if (Config.DoNormalize)
        {
            var mean = torch.tensor(Config.ImageMean, torch.float64).to(torch.float32);
            var std = torch.tensor(Config.ImageStd, torch.float64).to(torch.float32);
            x = x.sub(mean).div(std);
        }
        return x.permute(2, 0, 1).contiguous().MoveToOuterDisposeScope();
    }

    private torch.Tensor ResizeAndCrop(torch.Tensor rgbHwc, out torch.Tensor resized)
    {
        resized = Resize(rgbHwc);
        try { return CenterCrop(resized); }
        catch { resized.Dispose(); throw; }
    }

    private torch.Tensor Batch(int count, Func<int, torch.Tensor> one, Func<int, string> label, CancellationToken ct)
    {
        if (count == 0) throw new ArgumentException("the batch is empty.");
        var items = new List<torch.Tensor>(count);
        try
        {
            for (int i = 0; i < count; i++)
            {
                ct.ThrowIfCancellationRequested();
                var t = one(i);
                if (items.Count > 0 && !t.shape.SequenceEqual(items[0].shape))
                {
                    var shape = Uint8Pixels.Shape(t);
                    t.Dispose();
                    throw new ArgumentException($"{label(i)} preprocesses to {shape} but {label(0)} to {Uint8Pixels.Shape(items[0])}; enable the centre crop to batch images of different sizes.");
                }
                items.Add(t);
                _logger.LogDebug("Preprocessed {Label} ({Index}/{Count})", label(i), i + 1, count);
            }
            return torch.cat(items, 0);
        }
        finally
        {
            foreach (var t in items) t.Dispose();
        }
    }

    // The float path does not resample, so it accepts only sizes that resize and crop leave as they are.
    private void RequireUnchangedSize(int height, int width)
    {
        if (Config.DoResize)
        {
            var (h, w) = Config.ResizeHeight is int exactH && Config.ResizeWidth is int exactW
                ? (exactH, exactW)
                : ShortestEdgeSize(height, width, Config.ShortestEdge);
            if (h != height || w != width)
                throw new ArgumentException($"the processor resizes a {height}x{width} picture to {h}x{w}; PreprocessFloat does not resample — resize first or preprocess uint8 images.");
        }
        if (Config.DoCenterCrop && (Config.CropHeight != height || Config.CropWidth != width))
            throw new ArgumentException($"the processor crops to {Config.CropHeight}x{Config.CropWidth}, the pictures are {height}x{width}; PreprocessFloat does not crop — crop first or preprocess uint8 images.");
    }

    private static int FloorHalf(int v) => (int)Math.Floor(v / 2.0);

    private static void RequireRgb(torch.Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.dtype != torch.uint8 || t.dim() != 3 || t.shape[2] != 3)
            throw new ArgumentException($"expected a uint8 [H,W,3] RGB image, got {t.dtype} {Uint8Pixels.Shape(t)}.", nameof(t));
    }
}
