using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Runtime;

/// <summary>
/// Runs a model's final, few-channel convolution (UNet and MoVQ <c>conv_out</c>) around two libtorch 2.10 CPU defects
/// measured on this project's machines (see docs/architecture.md, "TorchSharp pitfalls"):
/// <list type="bullet">
/// <item>bfloat16 <c>conv2d</c> with few output channels is badly off (≈25 % of the output range at 8 channels), so
/// the conv runs in float32;</item>
/// <item>the float32 input gradient of a 3×3 <c>conv2d</c> whose output-channel count is not a multiple of 16 is wrong
/// (relative error ≈0.4) and intermittently NaN, so when autograd will need that gradient the weight is zero-padded
/// to a multiple of 16 output channels and the extra channels are dropped — same values, correct gradient.</item>
/// </list>
/// Inference in float32 (the reference path) is untouched: it calls the module as before.
/// </summary>
internal static class SmallOutputConv
{
    private const int SafeChannelMultiple = 16;

    /// <summary>Applies <paramref name="conv"/> (stride 1, symmetric <paramref name="padding"/>) to <paramref name="x"/>.</summary>
    public static Tensor Forward(Conv2d conv, Tensor x, long padding)
    {
        bool cpu = x.device.type == DeviceType.CPU;
        bool bfloat16 = cpu && x.dtype == ScalarType.BFloat16;
        long outChannels = conv.weight!.shape[0];
        bool padForGradient = cpu && x.requires_grad && outChannels % SafeChannelMultiple != 0;
        if (!bfloat16 && !padForGradient) return conv.call(x);

        using var scope = NewDisposeScope();
        var dtype = x.dtype;
        var input = bfloat16 ? x.to(ScalarType.Float32) : x;
        var weight = bfloat16 ? conv.weight.to(ScalarType.Float32) : conv.weight;
        var bias = bfloat16 ? conv.bias?.to(ScalarType.Float32) : conv.bias;
        if (padForGradient)
        {
            long extra = SafeChannelMultiple - outChannels % SafeChannelMultiple;
            var zeroShape = weight.shape.ToArray();
            zeroShape[0] = extra;
            weight = cat(new[] { weight, zeros(zeroShape, weight.dtype, weight.device) }, 0);
            if (bias is not null) bias = cat(new[] { bias, zeros(extra, bias.dtype, bias.device) }, 0);
        }
        var y = nn.functional.conv2d(input, weight, bias, padding: new[] { padding, padding });
        if (padForGradient) y = y.narrow(1, 0, outChannels);
        return y.to(dtype).MoveToOuterDisposeScope();
    }
}
