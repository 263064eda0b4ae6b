using System.Diagnostics;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Synthetic;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>Phase 1: trains the tiny CLIP vision tower with the attribute head, saves it (head discarded).</summary>
internal static class EncoderTraining
{
    public const int TrainSeedBase = 1;
    public const int HeldOutSeed = 1_000_000;

    public static void Run(TrainOptions o, ClipVisionConfig config)
    {
        manual_seed(o.Seed);
        using var model = new ClipVisionModelWithProjection(config);
        WeightInit.InitClip(model);
        using var head = nn.Linear(config.ProjectionDim, AttributeTargets.Width);
        if (o.EncoderInit is { } init)
        {
            // Continue from an earlier encoder stage (a fresh optimiser, warm-up and cosine over this stage's budget).
            using var previous = ClipVisionModelWithProjection.FromPretrained(init);
            using (no_grad())
                {
                var previousState = previous.state_dict();
                foreach (var (name, p) in model.named_parameters()) p.copy_(previousState[name]);
            }
            if (File.Exists(o.HeadFile))
            {
                using var file = SafetensorsFile.Open(o.HeadFile);
                using (no_grad())
                    foreach (var (name, p) in head.named_parameters()) { using var t = file.Load(name); p.copy_(t); }
            }
            Log.Line($"encoder: continuing from {init}{(File.Exists(o.HeadFile) ? $" and {o.HeadFile}" : " (fresh attribute head)")}");
        }
        model.train();
        var parameters = model.parameters().Concat(head.parameters()).ToList();
        using var opt = optim.AdamW(parameters, lr: o.EncoderLearningRate, beta1: 0.9, beta2: 0.98, weight_decay: 0.01);
        var schedule = new WarmupCosine(o.EncoderLearningRate, 50, 0);
        var clock = Stopwatch.StartNew();
        double smooth = double.NaN;
        int step = 0;
        Log.Line($"encoder: {parameters.Sum(p => p.numel()):N0} trainable parameters (incl. head), batch {o.EncoderBatch}, lr {o.EncoderLearningRate}, jitter weight {o.JitterWeight}, " +
                 (o.EncoderSteps is int n ? $"{n} steps" : $"budget {o.EncoderSeconds:F0}s"));
        // A step budget makes the run independent of machine speed (bit-reproducible); a wall-time budget fits a machine.
        while ((o.EncoderSteps is int max ? step < max : clock.Elapsed.TotalSeconds < o.EncoderSeconds) && step < o.StopAfterSteps)
        {
            using var scope = NewDisposeScope();
            var attrs = ShapeDomain.Sample(o.EncoderBatch, TrainSeedBase + step);
            var pixels = ToyModel.Normalize(ShapeDomain.Render(attrs));
            var loss = AttributeTargets.Loss(head.call(model.ForwardTrainable(pixels)), attrs, o.JitterWeight);
            opt.zero_grad();
            loss.backward();
            double gradNorm = nn.utils.clip_grad_norm_(parameters, 1.0);
            if (!double.IsFinite(gradNorm))
                throw new InvalidOperationException($"encoder step {step}: gradient norm {gradNorm} (loss {loss.item<float>()}).");
            double lr = schedule.At(step, o.EncoderSteps is int m ? (double)step / m : clock.Elapsed.TotalSeconds / o.EncoderSeconds);
            foreach (var g in opt.ParamGroups) g.LearningRate = lr;
            opt.step();
            double l = loss.item<float>();
            smooth = double.IsNaN(smooth) ? l : 0.95 * smooth + 0.05 * l;
            step++;
            if (step % 50 == 0 || step <= 3)
                Log.Line($"encoder step {step}: loss {smooth:F4} lr {lr:E2} {clock.Elapsed.TotalSeconds / step:F3}s/step");
            if (step % 100 == 0) Log.Line($"encoder step {step}: weight fingerprint {Fingerprint.Of(parameters)}");
        }
        Log.Line($"encoder: {step} steps in {clock.Elapsed.TotalSeconds:F0}s, final smoothed loss {smooth:F4}");

        model.eval();
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var attrs = ShapeDomain.Sample(1000, HeldOutSeed);
            var logits = head.call(model.Forward(ToyModel.Normalize(ShapeDomain.Render(attrs))));
            var acc = AttributeTargets.Accuracy(logits, attrs);
            Log.Line($"encoder held-out (1000 images, seed {HeldOutSeed}): shape {acc.Shape:P1}, colour {acc.Color:P1}, size {acc.Size:P1}, overlay {acc.Overlay:P1}");
        }
        var path = Path.Combine(ToyModel.EncoderDir(o.Output), "model.safetensors");
        SafetensorsWriter.Write(path, model.state_dict());
        SafetensorsWriter.Write(o.HeadFile, head.state_dict()); // kept outside the shipped folder, only to continue training
        Log.Line($"encoder: wrote {path} ({new FileInfo(path).Length / 1e6:F2} MB)");
    }
}
