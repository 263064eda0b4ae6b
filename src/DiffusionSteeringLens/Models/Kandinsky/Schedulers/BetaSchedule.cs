using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Schedulers;

/// <summary>The training noise schedules of diffusers' DDPM scheduler, computed in float32 exactly as torch does.</summary>
internal static class BetaSchedule
{
    /// <summary>Betas [n] (float32) for a schedule name.</summary>
    public static Tensor Create(string schedule, int n, double betaStart, double betaEnd) => schedule switch
    {
        "linear" => linspace(betaStart, betaEnd, n, dtype: ScalarType.Float32),
        "scaled_linear" => ScaledLinear(n, betaStart, betaEnd),
        "squaredcos_cap_v2" => SquaredCosCapV2(n),
        _ => throw new NotSupportedException($"beta_schedule '{schedule}' is not supported."),
    };

    /// <summary>Rescales betas to zero terminal SNR (Lin et al. 2023, algorithm 1), in float32 like the reference.</summary>
    public static Tensor RescaleZeroTerminalSnr(Tensor betas)
    {
        using var scope = NewDisposeScope();
        var alphasBarSqrt = (1.0 - betas).cumprod(0).sqrt();
        long n = betas.shape[0];
        var first = alphasBarSqrt.select(0, 0).clone();
        var last = alphasBarSqrt.select(0, n - 1).clone();
        alphasBarSqrt = (alphasBarSqrt - last) * (first / (first - last));
        var alphasBar = alphasBarSqrt.pow(2);
        var alphas = cat(new[] { alphasBar.narrow(0, 0, 1), alphasBar.narrow(0, 1, n - 1) / alphasBar.narrow(0, 0, n - 1) }, 0);
        return (1.0 - alphas).MoveToOuterDisposeScope();
    }

    private static Tensor ScaledLinear(int n, double betaStart, double betaEnd)
    {
        using var roots = linspace(Math.Sqrt(betaStart), Math.Sqrt(betaEnd), n, dtype: ScalarType.Float32);
        return roots.pow(2);
    }

    // Glide's cosine schedule: evaluated in double precision per step (as the reference does in Python), then stored as float32.
    private static Tensor SquaredCosCapV2(int n)
    {
        static double AlphaBar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);
        var betas = new float[n];
        for (int i = 0; i < n; i++)
            betas[i] = (float)Math.Min(1 - AlphaBar((i + 1) / (double)n) / AlphaBar(i / (double)n), 0.999);
        return tensor(betas);
    }
}
