using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>
/// Time-conditioned residual block (diffusers <c>ResnetBlock2D</c>, pre-norm, SiLU). Parameters <c>norm1, conv1,
/// time_emb_proj, norm2, conv2</c> and, when the channel count changes, a 1×1 <c>conv_shortcut</c>.
/// </summary>
internal sealed class ResnetBlock2D : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly GroupNorm norm1;
    private readonly Conv2d conv1;
    private readonly Linear time_emb_proj;
    private readonly GroupNorm norm2;
    private readonly Conv2d conv2;
    private readonly Conv2d? conv_shortcut;
    private readonly bool _scaleShift;
    private readonly bool _skipTimeAct;
    private readonly double _outputScaleFactor;
    private readonly ResnetResample _resample;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="tembChannels">Width of the time embedding.</param>
    /// <param name="groups">GroupNorm groups of both norms.</param>
    /// <param name="eps">GroupNorm epsilon.</param>
    /// <param name="scaleShift">
    /// <c>scale_shift</c> time conditioning (norm2(h)·(1+scale)+shift) instead of <c>default</c> (norm2(h+temb)).
    /// </param>
    /// <param name="skipTimeAct">Feed the time embedding to <c>time_emb_proj</c> without SiLU.</param>
    /// <param name="outputScaleFactor">Divisor of the residual sum.</param>
    /// <param name="resample">Up- or down-sampling inside the block.</param>
    /// <param name="device">Device of the weights.</param>
    /// <param name="dtype">Dtype of the weights.</param>
    public ResnetBlock2D(int inChannels, int outChannels, int tembChannels, int groups, double eps, bool scaleShift,
        bool skipTimeAct, double outputScaleFactor, ResnetResample resample, Device device, ScalarType dtype)
        : base(nameof(ResnetBlock2D))
    {
        norm1 = UNetLayers.GroupNorm(groups, inChannels, eps, device, dtype);
        conv1 = UNetLayers.Conv2d(inChannels, outChannels, 3, device, dtype);
        time_emb_proj = UNetLayers.Linear(tembChannels, scaleShift ? 2L * outChannels : outChannels, device, dtype);
        norm2 = UNetLayers.GroupNorm(groups, outChannels, eps, device, dtype);
        conv2 = UNetLayers.Conv2d(outChannels, outChannels, 3, device, dtype);
        if (inChannels != outChannels) conv_shortcut = UNetLayers.Conv2d(inChannels, outChannels, 1, device, dtype);
        _scaleShift = scaleShift;
        _skipTimeAct = skipTimeAct;
        _outputScaleFactor = outputScaleFactor;
        _resample = resample;
        InChannels = inChannels;
        OutChannels = outChannels;
        RegisterComponents();
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>[B, in, H, W] and time embedding [B, temb] → [B, out, H', W'] (H' = 2H up, H/2 down).</summary>
    public override Tensor forward(Tensor input, Tensor temb)
    {
        using var scope = torch.NewDisposeScope();
        var shortcut = input;
        var h = nn.functional.silu(norm1.call(input));
        // The reference resamples both the branch (after norm1+act) and the shortcut input.
        switch (_resample)
        {
            case ResnetResample.Up:
                shortcut = Upsample(shortcut);
                h = Upsample(h);
                break;
            case ResnetResample.Down:
                shortcut = nn.functional.avg_pool2d(shortcut, 2, stride: 2);
                h = nn.functional.avg_pool2d(h, 2, stride: 2);
                break;
        }
        h = conv1.call(h);

        var t = time_emb_proj.call(_skipTimeAct ? temb : nn.functional.silu(temb)).unsqueeze(-1).unsqueeze(-1);
        if (_scaleShift)
        {
            var parts = t.chunk(2, dim: 1);
            h = norm2.call(h) * (1 + parts[0]) + parts[1];
        }
        else
        {
            h = norm2.call(h + t);
        }
        h = conv2.call(nn.functional.silu(h));

        if (conv_shortcut is not null) shortcut = conv_shortcut.call(shortcut);
        var output = shortcut + h;
        if (_outputScaleFactor != 1.0) output = output / _outputScaleFactor;
        return output.MoveToOuterDisposeScope();
    }

    private static Tensor Upsample(Tensor x) =>
        nn.functional.interpolate(x, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest);
}
