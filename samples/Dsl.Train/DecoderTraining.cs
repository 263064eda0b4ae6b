using System.Diagnostics;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Kandinsky.Schedulers;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Synthetic;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>
/// Phase 2: ε-prediction training of the pixel-space UNet, conditioned on the frozen encoder's image_embeds with 10 %
/// CFG dropout to the zero-image embedding. Only the first 3 output channels (ε) are trained; the other 3 are the
/// unused "variance" half of Kandinsky's channel split. EMA weights are saved (periodically and at the end).
/// </summary>
internal static class DecoderTraining
{
    public const int TrainSeedBase = 10_000_000;

    public static void Run(TrainOptions o, UNet2DConditionConfig unetConfig, DdpmSchedulerConfig schedulerConfig)
    {
        using var encoder = ClipVisionModelWithProjection.FromPretrained(ToyModel.EncoderDir(o.Output));
        using var zeroEmbedding = encoder.ZeroImageEmbedding();
        using var scheduler = new DdpmScheduler(schedulerConfig);
        using var alphasCumprod = scheduler.AlphasCumprod.to(ScalarType.Float32).clone();

        manual_seed(o.Seed + 1);
        using var unet = new UNet2DConditionModel(unetConfig);
        WeightInit.InitUNetNorms(unet);
        foreach (var (name, p) in unet.named_parameters())
        {
            double maxAbs = p.abs().max().item<float>();
            if (!double.IsFinite(maxAbs) || maxAbs > 10) Log.Line($"decoder init: suspicious parameter {name} max|p| = {maxAbs}");
        }
        unet.train();
        var parameters = unet.parameters().ToList();
        using var opt = optim.AdamW(parameters, lr: 1e-3, beta1: 0.9, beta2: 0.99, weight_decay: 0);
        using var ema = new Ema(unet, 0.999);
        var schedule = new WarmupCosine(1e-3, 100, 0.05);
        string weights = Path.Combine(ToyModel.UNetDir(o.Output), "diffusion_pytorch_model.safetensors");
        Log.Line($"decoder: {parameters.Sum(p => p.numel()):N0} parameters, batch {o.DecoderBatch}, " +
                 (o.DecoderSteps is int n ? $"{n} steps" : $"budget {o.DecoderSeconds:F0}s"));

        var clock = Stopwatch.StartNew();
        double lastCheckpoint = 0, smooth = double.NaN;
        int step = 0;
        while ((o.DecoderSteps is int max ? step < max : clock.Elapsed.TotalSeconds < o.DecoderSeconds) && step < o.StopAfterSteps)
        {
            using (var scope = NewDisposeScope())
            {
                var attrs = ShapeDomain.Sample(o.DecoderBatch, TrainSeedBase + step);
                var images = ShapeDomain.Render(attrs);
                var embeds = encoder.Forward(ToyModel.Normalize(images)); // no_grad inside: the encoder is frozen
                var drop = (rand(o.DecoderBatch) < 0.1).unsqueeze(1);
                embeds = where(drop, zeroEmbedding, embeds);
                var x0 = ShapeDomain.ToDecoderSpace(images);
                var loss = EpsilonLoss.Compute(unet, alphasCumprod, x0, embeds, schedulerConfig.NumTrainTimesteps);
                opt.zero_grad();
                loss.backward();
                double gradNorm = nn.utils.clip_grad_norm_(parameters, 1.0);
                // Was intermittent before Runtime/CpuConv2d (then SmallOutputConv) fixed the conv_out input gradient; now it means a real
                // divergence, and a reproducible run must not paper over it.
                if (!double.IsFinite(gradNorm))
                    throw new InvalidOperationException($"decoder step {step}: gradient norm {gradNorm} (loss {loss.item<float>()}); " +
                        $"first non-finite gradient in {unet.named_parameters().First(np => np.parameter.grad is { } g && !g.isfinite().all().item<bool>()).name}.");
                double progress = o.DecoderSteps is int m ? (double)step / m : clock.Elapsed.TotalSeconds / o.DecoderSeconds;
                double lr = schedule.At(step, progress);
                foreach (var g in opt.ParamGroups) g.LearningRate = lr;
                opt.step();
                ema.Update();
                double l = loss.item<float>();
                if (!double.IsFinite(l)) throw new InvalidOperationException($"decoder loss is {l} at step {step}.");
                smooth = double.IsNaN(smooth) ? l : 0.98 * smooth + 0.02 * l;
                step++;
                if (step % 25 == 0 || step <= 5)
                    Log.Line($"decoder step {step}: loss {smooth:F4} lr {lr:E2} {clock.Elapsed.TotalSeconds / step:F2}s/step");
                if (step % 100 == 0) Log.Line($"decoder step {step}: weight fingerprint {Fingerprint.Of(parameters)}");
            }
            if (clock.Elapsed.TotalSeconds - lastCheckpoint > o.CheckpointSeconds)
            {
                lastCheckpoint = clock.Elapsed.TotalSeconds;
                SafetensorsWriter.Write(weights, ema.StateDict(unet));
                Log.Line($"decoder: checkpoint (EMA) at step {step}");
            }
        }
        SafetensorsWriter.Write(weights, ema.StateDict(unet));
        Log.Line($"decoder: {step} steps in {clock.Elapsed.TotalSeconds:F0}s, final smoothed loss {smooth:F4}; wrote {weights} ({new FileInfo(weights).Length / 1e6:F2} MB)");
    }
}
