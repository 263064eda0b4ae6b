using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Runtime;

/// <summary>
/// Runs every convolution of the UNet and the MoVQ around three libtorch 2.10 CPU defects measured on this project's
/// machines (see docs/architecture.md, "TorchSharp pitfalls"). Each is tied to a channel count that is not a multiple
/// of 16 (the AVX-512 block of oneDNN's kernels):
/// <list type="bullet">
/// <item>a float32 or bfloat16 convolution with a kernel larger than 1 × 1 and more than 16 input channels, not a
/// multiple of 16 (17, 20, 24, 40, …), reads uninitialised memory: where that memory happens to hold a NaN or infinity
/// bit pattern the output is NaN, and otherwise it can still be wrong (one 24-channel conv was 23 % off float64). So the
/// input and the weight are zero-padded to a multiple of 16 input channels (the extra channels add exact zeros);</item>
/// <item>bfloat16 <c>conv2d</c> with few output channels is badly off (≈25 % of the output range at 8 channels), so
/// such a conv runs in float32, and so does the zero-padded conv above (the path checked against float64);</item>
/// <item>the float32 input gradient of a 3×3 <c>conv2d</c> whose output-channel count is not a multiple of 16 is wrong
/// (relative error ≈0.4) and intermittently NaN, so when autograd will need that gradient the weight is zero-padded
/// to a multiple of 16 output channels and the extra channels are dropped — same values, correct gradient.</item>
/// </list>
/// Every other case — all of the full-size Kandinsky 2.2 models, whose channel counts are multiples of 16, and every
/// GPU run — calls the module itself; on CPU with the input laid out channels-last (NHWC), which oneDNN convolves
/// faster, so feature maps inside the UNet and the MoVQ are NHWC (the models return contiguous NCHW tensors). The
/// padded path calls <c>conv2d</c> directly, so forward hooks registered on the conv module do not fire there.
/// </summary>
internal static class CpuConv2d
{
    private const int SafeChannelMultiple = 16;

    /// <summary>Applies <paramref name="conv"/> (its stride, padding and dilation; one group) to <paramref name="x"/>.</summary>
    public static Tensor Forward(Conv2d conv, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(conv);
        ArgumentNullException.ThrowIfNull(x);
        var weight = conv.weight ?? throw new InvalidOperationException("the convolution has no weight.");
        bool cpu = x.device.type == DeviceType.CPU;
        long outChannels = weight.shape[0], inChannels = weight.shape[1];
        bool wideKernel = weight.shape[2] > 1 || weight.shape[3] > 1;
        bool padInput = cpu && wideKernel && inChannels > SafeChannelMultiple && inChannels % SafeChannelMultiple != 0
            && x.dtype is ScalarType.Float32 or ScalarType.BFloat16;
        bool inFloat32 = cpu && x.dtype == ScalarType.BFloat16 && (outChannels < SafeChannelMultiple || padInput);
        bool padOutput = cpu && x.requires_grad && outChannels % SafeChannelMultiple != 0;
        if (!padInput && !inFloat32 && !padOutput)
        {
            if (!cpu || x.dim() != 4 || IsChannelsLast(x)) return conv.call(x);
            using var nhwc = ToChannelsLast(x);
            return conv.call(nhwc);
        }
        if (conv.groups != 1) throw new NotSupportedException($"grouped convolutions ({conv.groups} groups) are not supported here.");

        using var scope = NewDisposeScope();
        var dtype = x.dtype;
        var input = inFloat32 ? x.to(ScalarType.Float32) : x;
        var w = inFloat32 ? weight.to(ScalarType.Float32) : weight;
        var bias = inFloat32 ? conv.bias?.to(ScalarType.Float32) : conv.bias;
        if (padInput)
        {
            long extra = SafeChannelMultiple - inChannels % SafeChannelMultiple;
            input = nn.functional.pad(input, new long[] { 0, 0, 0, 0, 0, extra });
            w = nn.functional.pad(w, new long[] { 0, 0, 0, 0, 0, extra });
        }
        if (padOutput)
        {
            long extra = SafeChannelMultiple - outChannels % SafeChannelMultiple;
            w = nn.functional.pad(w, new long[] { 0, 0, 0, 0, 0, 0, 0, extra });
            if (bias is not null) bias = nn.functional.pad(bias, new long[] { 0, extra });
        }
        var padding = conv.padding ?? throw new NotSupportedException("a convolution with a padding mode instead of explicit padding is not supported here.");
        var y = nn.functional.conv2d(input, w, bias, strides: conv.stride, padding: padding, dilation: conv.dilation);
        if (padOutput) y = y.narrow(1, 0, outChannels);
        return y.to(dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Whether a [B, C, H, W] tensor is laid out channels-last (NHWC strides). A conv whose input is channels-last
    /// returns channels-last, and GroupNorm, SiLU, nearest up-sampling and sums keep it, so after a model's first conv
    /// every feature map stays NHWC and no later conv pays for a conversion.
    /// </summary>
    internal static bool IsChannelsLast(Tensor x)
    {
        if (x.dim() != 4) return false;
        long c = x.shape[1], h = x.shape[2], w = x.shape[3];
        return x.stride(1) == 1 && x.stride(3) == c && x.stride(2) == w * c && x.stride(0) == h * w * c;
    }

    // Same values and shape, NHWC memory: oneDNN's CPU convolutions ran 1.4–2.7× faster on it at the MoVQ's and the UNet's
    // sizes (128–384 channels at 64–512 px; measured 2026-12-01, docs/performance.md), and equally fast at 768 × 32².
    private static Tensor ToChannelsLast(Tensor x)
    {
        using var nhwc = x.permute(0, 2, 3, 1);
        using var packed = nhwc.contiguous();
        return packed.permute(0, 3, 1, 2);
    }
}
