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
/// Phase "decoder-finetune": one decoder shared by several encoders that were distilled onto the same embedding space.
/// Starts from a trained decoder (<c>--decoder-init</c>) and continues its ε-MSE training on
/// <see cref="MarkedShapeDomain"/> images: each batch is split evenly over the <c>--condition-encoders</c>, each encoder
/// embeds its share of the marked images, and the target picture is the image without the three new marks (the picture
/// the distillation target describes), so the decoder learns to read the encoders' own embeddings, mark directions
/// included, without being asked to draw the marks. CFG dropout (10 %) goes to each encoder's own zero-image embedding,
/// the negative it is decoded against. Checkpoints every <c>--checkpoint-steps</c> (live weights, EMA, optimiser, step)
/// and continues bit for bit: every step reseeds the generator from the step.
/// </summary>
internal static class DecoderFineTuning
{
    public const int TrainSeedBase = 12_000_000;

    public static void Run(TrainOptions o, UNet2DConditionConfig unetConfig, DdpmSchedulerConfig schedulerConfig)
    {
        if (o.ConditionEncoders.Length == 0) throw new ArgumentException("--condition-encoders is required (encoder folders, comma-separated).");
        if (o.DecoderInit is null) throw new ArgumentException("--decoder-init is required (the decoder folder to start from).");
        int steps = o.DecoderSteps ?? throw new ArgumentException("--decoder-steps is required (a step-driven schedule makes the run reproducible).");
        int shares = o.ConditionEncoders.Length;
        if (o.DecoderBatch % shares != 0) throw new ArgumentException($"--decoder-batch {o.DecoderBatch} must be a multiple of the {shares} condition encoders.");
        int share = o.DecoderBatch / shares;

        var encoders = o.ConditionEncoders.Select(d => ClipVisionModelWithProjection.FromPretrained(d)).ToList();
        try
        {
            // Row i of a batch belongs to encoder i / share; its CFG negative is that encoder's zero-image embedding.
            Tensor negatives;
            using (var negativesScope = NewDisposeScope())
            {
                var zeros = cat(encoders.Select(e => e.ZeroImageEmbedding()).ToArray(), 0); // [E, P]
                negatives = zeros.index_select(0, arange(shares, dtype: ScalarType.Int64).repeat_interleave(share)).MoveToOuterDisposeScope();
            }
            using var negativesOwner = negatives;
            using var scheduler = new DdpmScheduler(schedulerConfig);
            using var alphasCumprod = scheduler.AlphasCumprod.to(ScalarType.Float32).clone();
            using var unet = new UNet2DConditionModel(unetConfig);
            var initWeights = Path.Combine(o.DecoderInit, "unet", "diffusion_pytorch_model.safetensors");
            using (var f = SafetensorsFile.Open(initWeights))
            {
                var expected = unet.state_dict().Keys.ToHashSet();
                if (!expected.SetEquals(f.Names))
                    throw new InvalidDataException($"{initWeights}: its tensors do not match the UNet config (missing {string.Join(", ", expected.Except(f.Names).Take(5))}; unexpected {string.Join(", ", f.Names.Except(expected).Take(5))}).");
                TrainingCheckpoint.LoadParameters(unet, f);
            }
            unet.train();
            var parameters = unet.parameters().ToList();
            using var opt = optim.AdamW(parameters, lr: o.DecoderLearningRate, beta1: 0.9, beta2: 0.99, weight_decay: 0);
            var schedule = new WarmupCosine(o.DecoderLearningRate, 50, 0.05);
            var checkpoint = Path.Combine(o.Output, "checkpoint");
            int step = TrainingCheckpoint.Resume(checkpoint,
                new (string, Action<SafetensorsFile>)[] { ("unet.safetensors", f => TrainingCheckpoint.LoadParameters(unet, f)) }, opt, "decoder-finetune");
            // The EMA starts from the weights the run starts from; a resumed run reloads its averages below.
            using var ema = new Ema(unet, 0.999);
            if (step > 0)
                using (var f = SafetensorsFile.Open(Path.Combine(checkpoint, "ema.safetensors"))) ema.Load(f, step);
            string weights = Path.Combine(ToyModel.UNetDir(o.Output), "diffusion_pytorch_model.safetensors");
            Log.Line($"decoder-finetune: from {initWeights}, {parameters.Sum(p => p.numel()):N0} parameters, batch {o.DecoderBatch} " +
                     $"({share} per encoder: {string.Join(", ", o.ConditionEncoders)}), lr {o.DecoderLearningRate}, {steps} steps, from step {step}");

            var clock = Stopwatch.StartNew();
            int first = step;
            double smooth = double.NaN;
            while (step < steps && step < o.StopAfterSteps)
            {
                using (var scope = NewDisposeScope())
                {
                    manual_seed(TrainSeedBase + step);
                    var attrs = MarkedShapeDomain.Sample(o.DecoderBatch, TrainSeedBase + step);
                    var marked = ToyModel.Normalize(MarkedShapeDomain.Render(attrs));
                    var embeds = cat(encoders.Select((e, k) => e.Forward(marked.narrow(0, k * share, share))).ToArray(), 0); // frozen: no_grad inside
                    var drop = (rand(o.DecoderBatch) < 0.1).unsqueeze(1);
                    embeds = where(drop, negatives, embeds);
                    var x0 = ShapeDomain.ToDecoderSpace(ShapeDomain.Render(attrs.Select(a => a.Base).ToList()));
                    var loss = EpsilonLoss.Compute(unet, alphasCumprod, x0, embeds, schedulerConfig.NumTrainTimesteps);
                    opt.zero_grad();
                    loss.backward();
                    double gradNorm = nn.utils.clip_grad_norm_(parameters, 1.0);
                    if (!double.IsFinite(gradNorm)) throw new InvalidOperationException($"decoder-finetune step {step}: gradient norm {gradNorm} (loss {loss.item<float>()}).");
                    double lr = schedule.At(step, (double)step / steps);
                    foreach (var g in opt.ParamGroups) g.LearningRate = lr;
                    opt.step();
                    ema.Update();
                    double l = loss.item<float>();
                    smooth = double.IsNaN(smooth) ? l : 0.98 * smooth + 0.02 * l;
                    step++;
                    if (step % 25 == 0 || step - first <= 3)
                        Log.Line($"decoder-finetune step {step}: loss {smooth:F4} lr {lr:E2} {clock.Elapsed.TotalSeconds / (step - first):F2}s/step");
                    if (step % 100 == 0) Log.Line($"decoder-finetune step {step}: weight fingerprint {Fingerprint.Of(parameters)}");
                }
                if (step % o.CheckpointSteps == 0 && step < steps) Save(checkpoint, unet, ema, opt, step);
            }
            if (step < steps)
            {
                Save(checkpoint, unet, ema, opt, step);
                Log.Line($"decoder-finetune: stopped at step {step} of {steps}; run the same command again to continue");
                return;
            }
            SafetensorsWriter.Write(weights, ema.StateDict(unet));
            Log.Line($"decoder-finetune: {steps} steps (this run {step - first} in {clock.Elapsed.TotalSeconds:F0}s); wrote the EMA weights to {weights} ({new FileInfo(weights).Length / 1e6:F2} MB)");
        }
        finally
        {
            foreach (var e in encoders) e.Dispose();
        }
    }

    private static void Save(string folder, nn.Module unet, Ema ema, TorchSharp.Modules.OptimizerHelper opt, int step) =>
        TrainingCheckpoint.Save(folder, new[] { ("unet.safetensors", unet.state_dict()), ("ema.safetensors", ema.StateDict(unet)) }, opt, step, "decoder-finetune");
}
