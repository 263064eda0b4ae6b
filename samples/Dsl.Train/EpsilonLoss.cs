using DiffusionSteeringLens.Models.Kandinsky.Unet;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>
/// The DDPM ε-prediction loss both decoder phases train with: one random timestep per row, x_t from x₀ and Gaussian
/// noise, and the MSE of the UNet's first C output channels (ε; the rest are Kandinsky's unused variance half) against
/// that noise. Draws the timesteps, then the noise, from the global generator.
/// </summary>
internal static class EpsilonLoss
{
    public static Tensor Compute(UNet2DConditionModel unet, Tensor alphasCumprod, Tensor x0, Tensor embeds, int trainTimesteps)
    {
        var t = randint(0, trainTimesteps, new long[] { x0.shape[0] }, dtype: ScalarType.Int64);
        var noise = randn_like(x0);
        var ac = alphasCumprod.index_select(0, t).view(-1, 1, 1, 1);
        var xt = ac.sqrt() * x0 + (1 - ac).sqrt() * noise;
        var pred = unet.Forward(xt, t, embeds).narrow(1, 0, x0.shape[1]);
        return nn.functional.mse_loss(pred, noise);
    }
}
