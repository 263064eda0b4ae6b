using TorchSharp;

namespace DiffusionSteeringLens.Imaging;

/// <summary>
/// Bit-exact re-implementation of Pillow's 8-bit <c>Image.resize</c> (Pillow 9.x–11.x, modes L/RGB/RGBX treated per channel)
/// for the <see cref="PilResampleFilter.Nearest"/>, <see cref="PilResampleFilter.Bilinear"/> and
/// <see cref="PilResampleFilter.Bicubic"/> filters, with the whole image as the source box.
/// </summary>
/// <remarks>
/// <para>Same size in and out: the pixels are copied unchanged (Pillow returns a copy).</para>
/// <para>Nearest: source index of output pixel <c>i</c> is <c>trunc(s/2 + i·s)</c> with <c>s = in/out</c>, where the
/// position is accumulated one step at a time in double precision exactly as Pillow's affine scaler does.</para>
/// <para>Bilinear/bicubic: separable antialiased convolution. For each output index the filter is centred at
/// <c>(i + 0.5)·scale</c> (<c>scale = in/out</c>); when downscaling the filter support is widened by <c>scale</c>
/// and its argument shrunk by it. Taps run from <c>trunc(centre − support + 0.5)</c> to
/// <c>trunc(centre + support + 0.5)</c> clamped to the image; weights are normalised to sum to 1, then turned into
/// integers with <see cref="PrecisionBits"/> fractional bits (rounded half away from zero). Each output value is
/// <c>clamp((2^(P−1) + Σ pixel·weight) &gt;&gt; P, 0, 255)</c> in 32-bit integer arithmetic. The horizontal pass runs
/// first (only if the width changes) and its result is stored as uint8 before the vertical pass (only if the height changes).
/// Bicubic uses the Keys kernel with a = −0.5 (support 2); bilinear is the triangle kernel (support 1).</para>
/// <para>RGBA data is resampled channel by channel; unlike Pillow's RGBA path no alpha premultiplication is done.</para>
/// </remarks>
internal static class PilResampler
{
    /// <summary>Fractional bits of the fixed-point weights: 32 − 8 − 2 = 22, as in Pillow.</summary>
    public const int PrecisionBits = 32 - 8 - 2;

    /// <summary>
    /// Resizes interleaved uint8 pixels (<c>height × width × channels</c>, row-major) to <paramref name="outWidth"/> × <paramref name="outHeight"/>.
    /// </summary>
    /// <param name="pixels">Source pixels; length must be <c>width·height·channels</c>.</param>
    /// <param name="width">Source width.</param>
    /// <param name="height">Source height.</param>
    /// <param name="channels">Interleaved channels per pixel (1–4).</param>
    /// <param name="outWidth">Target width (≥ 1).</param>
    /// <param name="outHeight">Target height (≥ 1).</param>
    /// <param name="filter">Pillow filter.</param>
    /// <returns>New array of <c>outHeight·outWidth·channels</c> bytes.</returns>
    /// <exception cref="ArgumentException">A size is not positive, the buffer length does not match, or the filter is unsupported.</exception>
    public static byte[] Resize(ReadOnlySpan<byte> pixels, int width, int height, int channels, int outWidth, int outHeight, PilResampleFilter filter)
    {
        if (width < 1 || height < 1) throw new ArgumentException($"source size {width}x{height} must be positive.");
        if (outWidth < 1 || outHeight < 1) throw new ArgumentException($"target size {outWidth}x{outHeight} must be positive (Pillow: 'height and width must be > 0').");
        if (channels is < 1 or > 4) throw new ArgumentException($"channels must be 1..4, got {channels}.", nameof(channels));
        if ((long)width * height * channels != pixels.Length)
            throw new ArgumentException($"{pixels.Length} bytes do not match {width}x{height}x{channels}.", nameof(pixels));
        if (filter is not (PilResampleFilter.Nearest or PilResampleFilter.Bilinear or PilResampleFilter.Bicubic))
            throw new ArgumentException($"unsupported filter {filter}.", nameof(filter));

        if (outWidth == width && outHeight == height) return pixels.ToArray();
        if (filter == PilResampleFilter.Nearest) return Nearest(pixels, width, height, channels, outWidth, outHeight);

        byte[]? current = null;
        int curW = width;
        if (outWidth != width)
        {
            var k = Kernel.Build(width, outWidth, filter);
            current = Horizontal(pixels, width, height, channels, k);
            curW = outWidth;
        }
        if (outHeight != height)
        {
            var k = Kernel.Build(height, outHeight, filter);
            current = current is null
                ? Vertical(pixels, curW, channels, k)
                : Vertical(current, curW, channels, k);
        }
        return current!;
    }

    /// <summary>Resizes a uint8 image tensor <c>[H, W, C]</c> (C = 1–4) on the CPU; returns a new <c>[outHeight, outWidth, C]</c> uint8 tensor.</summary>
    /// <param name="imageHwc">Source image.</param>
    /// <param name="outWidth">Target width.</param>
    /// <param name="outHeight">Target height.</param>
    /// <param name="filter">Pillow filter.</param>
    /// <exception cref="ArgumentException">The tensor is not uint8 <c>[H, W, C]</c> with C in 1..4, or a size is invalid.</exception>
    public static torch.Tensor Resize(torch.Tensor imageHwc, int outWidth, int outHeight, PilResampleFilter filter)
    {
        ArgumentNullException.ThrowIfNull(imageHwc);
        if (imageHwc.dtype != torch.uint8 || imageHwc.dim() != 3 || imageHwc.shape[2] is < 1 or > 4)
            throw new ArgumentException($"expected a uint8 [H,W,C] image (C 1..4), got {imageHwc.dtype} {Uint8Pixels.Shape(imageHwc)}.", nameof(imageHwc));
        int h = (int)imageHwc.shape[0], w = (int)imageHwc.shape[1], c = (int)imageHwc.shape[2];
        var src = Uint8Pixels.ToArray(imageHwc);
        var dst = Resize(src, w, h, c, outWidth, outHeight, filter);
        return Uint8Pixels.FromArray(dst, outHeight, outWidth, c);
    }

    private static byte[] Nearest(ReadOnlySpan<byte> src, int w, int h, int c, int ow, int oh)
    {
        var xs = NearestIndices(w, ow);
        var ys = NearestIndices(h, oh);
        var dst = new byte[(long)ow * oh * c];
        for (int y = 0; y < oh; y++)
        {
            int srcRow = ys[y] * w * c, dstRow = y * ow * c;
            for (int x = 0; x < ow; x++)
            {
                int s = srcRow + xs[x] * c, d = dstRow + x * c;
                for (int ch = 0; ch < c; ch++) dst[d + ch] = src[s + ch];
            }
        }
        return dst;
    }

    /// <summary>Source index per output index for nearest scaling, accumulated in double like Pillow's affine scaler.</summary>
    internal static int[] NearestIndices(int inSize, int outSize)
    {
        double step = (double)inSize / outSize;
        double pos = 0.0 + step * 0.5;
        var idx = new int[outSize];
        for (int i = 0; i < outSize; i++)
        {
            int v = pos < 0.0 ? -1 : (int)pos;
            // Positions stay inside [0, inSize) for a full-image box; clamp defensively.
            idx[i] = Math.Clamp(v, 0, inSize - 1);
            pos += step;
        }
        return idx;
    }

    private static byte Clip(int acc)
    {
        int v = acc >> PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    private static byte[] Horizontal(ReadOnlySpan<byte> src, int w, int h, int c, Kernel k)
    {
        int ow = k.OutSize;
        var dst = new byte[(long)ow * h * c];
        const int half = 1 << (PrecisionBits - 1);
        Span<int> acc = stackalloc int[4];
        for (int y = 0; y < h; y++)
        {
            int srcRow = y * w * c, dstRow = y * ow * c;
            for (int x = 0; x < ow; x++)
            {
                int first = k.First[x], count = k.Count[x], wOff = x * k.Stride;
                acc.Fill(half);
                for (int t = 0; t < count; t++)
                {
                    int weight = k.Weights[wOff + t];
                    int p = srcRow + (first + t) * c;
                    for (int ch = 0; ch < c; ch++) acc[ch] += src[p + ch] * weight;
                }
                int d = dstRow + x * c;
                for (int ch = 0; ch < c; ch++) dst[d + ch] = Clip(acc[ch]);
            }
        }
        return dst;
    }

    private static byte[] Vertical(ReadOnlySpan<byte> src, int w, int c, Kernel k)
    {
        int oh = k.OutSize, rowLen = w * c;
        var dst = new byte[(long)oh * rowLen];
        const int half = 1 << (PrecisionBits - 1);
        for (int y = 0; y < oh; y++)
        {
            int first = k.First[y], count = k.Count[y], wOff = y * k.Stride, dstRow = y * rowLen;
            for (int i = 0; i < rowLen; i++)
            {
                int acc = half;
                for (int t = 0; t < count; t++) acc += src[(first + t) * rowLen + i] * k.Weights[wOff + t];
                dst[dstRow + i] = Clip(acc);
            }
        }
        return dst;
    }

    /// <summary>Fixed-point taps of one resampling axis.</summary>
    internal sealed class Kernel
    {
        public required int OutSize { get; init; }
        public required int Stride { get; init; }
        public required int[] First { get; init; }
        public required int[] Count { get; init; }
        public required int[] Weights { get; init; }

        /// <summary>Pillow's coefficient table for a full-axis box <c>[0, inSize)</c> resampled to <paramref name="outSize"/>.</summary>
        public static Kernel Build(int inSize, int outSize, PilResampleFilter filter)
        {
            double baseSupport = filter == PilResampleFilter.Bicubic ? 2.0 : 1.0;
            // The box edges are single-precision floats in Pillow; an int size converts exactly below 2^24.
            double scale = (double)(float)inSize / outSize;
            double filterScale = scale < 1.0 ? 1.0 : scale;
            double support = baseSupport * filterScale;
            int stride = (int)Math.Ceiling(support) * 2 + 1;
            double inv = 1.0 / filterScale;

            var first = new int[outSize];
            var count = new int[outSize];
            var fixedW = new int[outSize * stride];
            var w = new double[stride + 2];
            for (int o = 0; o < outSize; o++)
            {
                double centre = 0.0 + (o + 0.5) * scale;
                int lo = (int)(centre - support + 0.5);
                if (lo < 0) lo = 0;
                int hi = (int)(centre + support + 0.5);
                if (hi > inSize) hi = inSize;
                int n = hi - lo;
                if (n > w.Length) w = new double[n];
                double sum = 0.0;
                for (int t = 0; t < n; t++)
                {
                    double arg = ((double)(t + lo) - centre + 0.5) * inv;
                    double v = filter == PilResampleFilter.Bicubic ? Cubic(arg) : Triangle(arg);
                    w[t] = v;
                    sum += v;
                }
                for (int t = 0; t < n; t++)
                {
                    double v = sum != 0.0 ? w[t] / sum : w[t];
                    double scaled = v * (1 << PrecisionBits);
                    fixedW[o * stride + t] = v < 0 ? (int)(-0.5 + scaled) : (int)(0.5 + scaled);
                }
                first[o] = lo;
                count[o] = n;
            }
            return new Kernel { OutSize = outSize, Stride = stride, First = first, Count = count, Weights = fixedW };
        }

        private static double Triangle(double x)
        {
            if (x < 0.0) x = -x;
            return x < 1.0 ? 1.0 - x : 0.0;
        }

        private static double Cubic(double x)
        {
            // Keys cubic convolution kernel, a = -0.5: (a+2)|x|^3 - (a+3)|x|^2 + 1 on [0,1), a(|x|^3 - 5|x|^2 + 8|x| - 4) on [1,2).
            const double a = -0.5;
            if (x < 0.0) x = -x;
            if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
            if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
            return 0.0;
        }
    }
}
