using DiffusionSteeringLens.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Layers;

/// <summary>
/// The residual block of both Kandinsky 2.2 models (diffusers <c>ResnetBlock2D</c>, pre-norm, SiLU): norm1 → SiLU →
/// [resample] → conv1 → (time embedding) → norm2 → SiLU → conv2, plus a 1×1 <c>conv_shortcut</c> when the channel
/// count changes. <see cref="ResnetBlockSettings"/> injects the two differences between the UNet's and the MoVQ's
/// blocks: <c>time_emb_proj</c> exists only with a time embedding, and the norms are GroupNorms or
/// <see cref="SpatialNorm"/>s conditioned on the quantised latent.
/// </summary>
/// <remarks>
/// As in diffusers, the second forward argument is the block's conditioning: the time embedding [B, temb] for a
/// time-conditioned block, the latent [B, Cz, h, w] for spatial norms, ignored (may be null) for a plain VAE block.
/// </remarks>
internal sealed class ResnetBlock2D : nn.Module<Tensor, Tensor?, Tensor>
{
    // Field names are the checkpoint's key segments (TorchSharp names state-dict entries after fields).
    // norm1 / norm2 are GroupNorm or SpatialNorm (see Normalize).
    private readonly nn.Module norm1;
    private readonly Conv2d conv1;
    private readonly Linear? time_emb_proj;
    private readonly nn.Module norm2;
    private readonly Conv2d conv2;
    private readonly Conv2d? conv_shortcut;
    private readonly bool _scaleShift;
    private readonly bool _skipTimeAct;
    private readonly double _outputScaleFactor;
    private readonly ResnetResample _resample;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="settings">Conditioning, norms, device and dtype.</param>
    /// <param name="resample">Up- or down-sampling inside the block (UNet only).</param>
    public ResnetBlock2D(int inChannels, int outChannels, ResnetBlockSettings settings, ResnetResample resample = ResnetResample.None)
        : base(nameof(ResnetBlock2D))
    {
        ArgumentNullException.ThrowIfNull(settings);
        var (device, dtype) = (settings.Device, settings.DType);
        norm1 = Norm(inChannels, settings);
        conv1 = KandinskyLayers.Conv2d(inChannels, outChannels, 3, device, dtype);
        if (settings.TembChannels is int temb)
            time_emb_proj = KandinskyLayers.Linear(temb, settings.ScaleShift ? 2L * outChannels : outChannels, device, dtype);
        norm2 = Norm(outChannels, settings);
        conv2 = KandinskyLayers.Conv2d(outChannels, outChannels, 3, device, dtype);
        if (inChannels != outChannels) conv_shortcut = KandinskyLayers.Conv2d(inChannels, outChannels, 1, device, dtype);
        _scaleShift = settings.ScaleShift;
        _skipTimeAct = settings.SkipTimeAct;
        _outputScaleFactor = settings.OutputScaleFactor;
        _resample = resample;
        RegisterComponents();
    }

    /// <summary>[B, in, H, W] → [B, out, H', W'] (H' = 2H up, H/2 down), conditioned on <paramref name="conditioning"/>.</summary>
    /// <exception cref="ArgumentNullException">The block needs a time embedding or a latent and got null.</exception>
    public override Tensor forward(Tensor input, Tensor? conditioning)
    {
        using var scope = torch.NewDisposeScope();
        // In place when no gradient is recorded: the MoVQ's last level holds 128 MiB per feature map and image at 512 px
        // (same values either way; autograd needs the pre-activation, so training stays out of place).
        bool inplace = !torch.is_grad_enabled();
        var shortcut = input;
        var h = Normalize(norm1, input, conditioning);
        h = Activate(h, inplace, input);
        // The reference resamples both the branch (after norm1+act) and the shortcut input.
        switch (_resample)
        {
            case ResnetResample.Up:
                shortcut = Upsample(shortcut);
                h = TensorChain.Advance(h, Upsample(h), input);
                break;
            case ResnetResample.Down:
                shortcut = nn.functional.avg_pool2d(shortcut, 2, stride: 2);
                h = TensorChain.Advance(h, nn.functional.avg_pool2d(h, 2, stride: 2), input);
                break;
        }
        h = TensorChain.Advance(h, CpuConv2d.Forward(conv1, h), input);

        if (time_emb_proj is not null)
        {
            ArgumentNullException.ThrowIfNull(conditioning);
            var t = time_emb_proj.call(_skipTimeAct ? conditioning : nn.functional.silu(conditioning)).unsqueeze(-1).unsqueeze(-1);
            if (_scaleShift)
            {
                var parts = t.chunk(2, dim: 1);
                h = Normalize(norm2, h, conditioning) * (1 + parts[0]) + parts[1];
            }
            else
            {
                h = Normalize(norm2, h + t, conditioning);
            }
        }
        else
        {
            h = TensorChain.Advance(h, Normalize(norm2, h, conditioning), input);
        }
        h = Activate(h, inplace, input);
        h = TensorChain.Advance(h, CpuConv2d.Forward(conv2, h), input);

        if (conv_shortcut is not null) shortcut = CpuConv2d.Forward(conv_shortcut, shortcut);
        var output = shortcut + h;
        if (_outputScaleFactor != 1.0) output = output / _outputScaleFactor;
        return output.MoveToOuterDisposeScope();
    }

    private static nn.Module Norm(int channels, ResnetBlockSettings settings) =>
        settings.SpatialNormChannels is int latent
            ? new SpatialNorm(channels, latent, settings.Device, settings.DType)
            : KandinskyLayers.GroupNorm(settings.Groups, channels, settings.Eps, settings.Device, settings.DType);

    private static Tensor Normalize(nn.Module norm, Tensor x, Tensor? conditioning) => norm switch
    {
        GroupNorm group => group.call(x),
        SpatialNorm spatial => spatial.call(x, conditioning ?? throw new ArgumentNullException(nameof(conditioning), "a spatially normalised resnet needs the quantised latent.")),
        _ => throw new InvalidOperationException($"unexpected resnet norm {norm.GetType().Name}."),
    };

    private static Tensor Activate(Tensor h, bool inplace, Tensor keep)
    {
        if (!inplace) return TensorChain.Advance(h, nn.functional.silu(h), keep);
        nn.functional.silu(h, inplace: true);
        return h;
    }

    private static Tensor Upsample(Tensor x) =>
        nn.functional.interpolate(x, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest);
}
