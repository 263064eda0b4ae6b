using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>
/// Sinusoidal timestep features (diffusers <c>Timesteps</c> / <c>get_timestep_embedding</c>). No parameters.
/// </summary>
internal sealed class Timesteps : nn.Module<Tensor, Tensor>
{
    private const double MaxPeriod = 10000.0;
    private readonly int _numChannels;
    private readonly bool _flipSinToCos;
    private readonly double _downscaleFreqShift;

    /// <summary>Creates the feature map.</summary>
    /// <param name="numChannels">Output width (half sine, half cosine; an odd width gets one zero column).</param>
    /// <param name="flipSinToCos">Put the cosine half first.</param>
    /// <param name="downscaleFreqShift">Subtracted from the number of frequencies in the exponent's denominator.</param>
    public Timesteps(int numChannels, bool flipSinToCos, double downscaleFreqShift) : base(nameof(Timesteps))
    {
        if (numChannels < 2) throw new ArgumentOutOfRangeException(nameof(numChannels), numChannels, "needs at least 2 channels.");
        _numChannels = numChannels;
        _flipSinToCos = flipSinToCos;
        _downscaleFreqShift = downscaleFreqShift;
        RegisterComponents();
    }

    /// <summary>Features of a [B] vector of (possibly fractional) timesteps, as float32 [B, numChannels].</summary>
    public override Tensor forward(Tensor timesteps)
    {
        if (timesteps.dim() != 1) throw new ArgumentException($"timesteps must be 1-D, found shape [{string.Join(", ", timesteps.shape)}].", nameof(timesteps));
        using var scope = torch.NewDisposeScope();
        int half = _numChannels / 2;
        // Same float32 operation order as the reference, so arguments like 999·f match to the last bit as far as
        // libtorch allows (an error of one ulp at ~1000 is already 6e-5 in the sine).
        var exponent = torch.arange(0, half, dtype: ScalarType.Float32, device: timesteps.device) * (-Math.Log(MaxPeriod));
        exponent = exponent / (half - _downscaleFreqShift);
        var freqs = exponent.exp();
        var args = timesteps.to(ScalarType.Float32).unsqueeze(1) * freqs.unsqueeze(0);
        var emb = torch.cat(new[] { args.sin(), args.cos() }, dim: -1);
        if (_flipSinToCos)
            emb = torch.cat(new[] { emb[.., half..], emb[.., ..half] }, dim: -1);
        if (_numChannels % 2 == 1)
            emb = nn.functional.pad(emb, new long[] { 0, 1, 0, 0 });
        return emb.MoveToOuterDisposeScope();
    }
}
