using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Synthetic;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>
/// Testbed phase "distil": trains a wider/deeper CLIP vision tower on the <see cref="MarkedShapeDomain"/> so that its
/// image_embeds (a) regress onto the shipped (teacher) encoder's embedding of the same image without the new marks —
/// so the shipped decoder decodes it — and (b) linearly encode every attribute, new marks and tick count included.
/// Checkpoints every <c>--checkpoint-steps</c> (weights, attribute head, optimiser state, step) and resumes from the
/// last checkpoint, bit for bit: batches are seeded by step and the schedule is driven by step.
/// </summary>
internal static class DistilTraining
{
    public const int TrainSeedBase = 2_000_001;
    public const int HeldOutSeed = 3_000_000;

    public static void Run(TrainOptions o, ClipVisionConfig config)
    {
        int steps = o.DistilSteps;
        using var teacher = ClipVisionModelWithProjection.FromPretrained(o.Teacher ?? Path.Combine(ShippedModels.Require(ShippedModels.Shapes32), "encoder"));
        manual_seed(o.Seed);
        using var model = new ClipVisionModelWithProjection(config);
        WeightInit.InitClip(model);
        using var head = nn.Linear(config.ProjectionDim, MarkedAttributeTargets.Width);
        var parameters = model.parameters().Concat(head.parameters()).ToList();
        using var opt = optim.AdamW(parameters, lr: o.EncoderLearningRate, beta1: 0.9, beta2: 0.98, weight_decay: 0.01);
        var schedule = new WarmupCosine(o.EncoderLearningRate, 50, 0);
        var checkpoint = Path.Combine(o.Output, "checkpoint");
        int step = TrainingCheckpoint.Resume(checkpoint,
            new (string, Action<SafetensorsFile>)[] { ("model.safetensors", f => TrainingCheckpoint.LoadParameters(model, f)), ("head.safetensors", f => TrainingCheckpoint.LoadParameters(head, f)) },
            opt, "distil");
        // Planted roles (--plant 1): applied to the initial weights once; after a resume the weights already hold them
        // and re-projecting would move the last bits (a resumed run must continue bit for bit).
        if (o.Plant && step == 0) PlantedRoles.Constrain(model);
        int patch = config.PatchSize, heads = config.NumAttentionHeads;
        // Scale of the regression target, from a fixed batch: the loss is the fraction of the teacher's mean square missed.
        double targetScale;
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            var probe = teacher.Forward(ToyModel.Normalize(ShapeDomain.Render(ShapeDomain.Sample(512, HeldOutSeed + 1))));
            targetScale = probe.pow(2).mean().item<float>();
        }
        Log.Line($"distil: {config.NumHiddenLayers}×{config.NumAttentionHeads} heads, {parameters.Sum(p => p.numel()):N0} trainable parameters (incl. head), " +
                 $"batch {o.EncoderBatch}, lr {o.EncoderLearningRate}, distil weight {o.DistilWeight}, {steps} steps, from step {step}, target mean square {targetScale:F3}" +
                 (o.Plant ? $", planted roles (leak weight {o.PlantWeight}, ramped in over steps 200–500; reader weight {o.PlantReaderWeight})" : ""));
        model.train();
        var clock = Stopwatch.StartNew();
        int first = step;
        double smooth = double.NaN, smoothDistil = double.NaN, smoothLeak = double.NaN;
        while (step < steps && step < o.StopAfterSteps)
        {
            using var scope = NewDisposeScope();
            var attrs = MarkedShapeDomain.Sample(o.EncoderBatch, TrainSeedBase + step);
            Tensor target;
            using (no_grad()) target = teacher.Forward(ToyModel.Normalize(ShapeDomain.Render(attrs.Select(a => a.Base).ToList())));
            var patterns = new Tensor[config.NumHiddenLayers];
            var hooks = o.Plant ? PlantedRoles.TrainingHooks(config.NumHiddenLayers, patterns, PlantedRoles.PairChoice(attrs.Count, step), heads) : null;
            var embeds = model.ForwardTrainable(ToyModel.Normalize(MarkedShapeDomain.Render(attrs)), hooks);
            var distil = nn.functional.mse_loss(embeds, target) / targetScale;
            var loss = o.DistilWeight * distil + MarkedAttributeTargets.Loss(head.call(embeds), attrs, o.JitterWeight);
            Tensor? leak = o.Plant ? PlantedRoles.LeakPenalty(patterns, config.ImageSize, patch, heads) : null;
            Tensor? read = o.Plant ? PlantedRoles.ReaderPenalty(patterns, config.ImageSize, patch) : null;
            if (leak is not null) loss = loss + o.PlantWeight * PlantedRoles.LeakRamp(step) * leak + o.PlantReaderWeight * read!;
            opt.zero_grad();
            loss.backward();
            double gradNorm = nn.utils.clip_grad_norm_(parameters, 1.0);
            if (!double.IsFinite(gradNorm))
                throw new InvalidOperationException($"distil step {step}: gradient norm {gradNorm} (loss {loss.item<float>()}).");
            double lr = schedule.At(step, (double)step / steps);
            foreach (var g in opt.ParamGroups) g.LearningRate = lr;
            opt.step();
            if (o.Plant) PlantedRoles.Constrain(model);
            double l = loss.item<float>(), d = distil.item<float>();
            smooth = double.IsNaN(smooth) ? l : 0.95 * smooth + 0.05 * l;
            smoothDistil = double.IsNaN(smoothDistil) ? d : 0.95 * smoothDistil + 0.05 * d;
            if (leak is not null)
            {
                double k = leak.item<float>();
                smoothLeak = double.IsNaN(smoothLeak) ? k : 0.95 * smoothLeak + 0.05 * k;
            }
            step++;
            if (step % 50 == 0 || step - first <= 3)
            {
                Log.Line($"distil step {step}: loss {smooth:F4} (distil {smoothDistil:F4}{(o.Plant ? $", leak {smoothLeak:E2}, reader {read!.item<float>():F3}" : "")}) lr {lr:E2} {clock.Elapsed.TotalSeconds / (step - first):F3}s/step");
                // Training-batch accuracies: a planted run that is not learning its marks shows it here, hundreds of steps
                // before the held-out evaluation.
                if (o.Plant)
                    using (no_grad())
                        Log.Line($"distil step {step}: batch accuracy " + string.Join(", ", MarkedAttributeTargets.Accuracy(head.call(embeds.detach()), attrs).Select(kv => $"{kv.Key} {kv.Value:P0}")));
            }
            if (step % 100 == 0) Log.Line($"distil step {step}: weight fingerprint {Fingerprint.Of(parameters)}");
            if (step % o.CheckpointSteps == 0 && step < steps) Save(checkpoint, model, head, opt, step);
        }
        if (step < steps)
        {
            Save(checkpoint, model, head, opt, step);
            Log.Line($"distil: stopped at step {step} of {steps}; run the same command again to continue");
            return;
        }
        model.eval();
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var attrs = MarkedShapeDomain.Sample(1000, HeldOutSeed);
            var embeds = model.Forward(ToyModel.Normalize(MarkedShapeDomain.Render(attrs)));
            var target = teacher.Forward(ToyModel.Normalize(ShapeDomain.Render(attrs.Select(a => a.Base).ToList())));
            var cos = nn.functional.cosine_similarity(embeds, target, 1).mean().item<float>();
            var acc = MarkedAttributeTargets.Accuracy(head.call(embeds), attrs);
            Log.Line($"distil held-out (1000 images, seed {HeldOutSeed}): cosine to teacher {cos:F4}; " +
                     string.Join(", ", acc.Select(kv => $"{kv.Key} {kv.Value:P1}")));
            if (o.Plant) PlantedRolesReport.Write(model, attrs, Path.Combine(o.Output, "planted-roles.json"));
            File.WriteAllText(Path.Combine(o.Output, "distil-heldout.json"), JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["images"] = 1000, ["seed"] = HeldOutSeed, ["cosine_to_teacher"] = Math.Round(cos, 5),
                ["attribute_accuracy"] = acc.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 4)),
            }, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        }
        var path = Path.Combine(ToyModel.EncoderDir(o.Output), "model.safetensors");
        SafetensorsWriter.Write(path, model.state_dict());
        SafetensorsWriter.Write(Path.Combine(o.Output, "attribute-head.safetensors"), head.state_dict());
        Log.Line($"distil: wrote {path} ({new FileInfo(path).Length / 1e6:F2} MB) after {steps} steps");
    }

    private static void Save(string folder, nn.Module model, nn.Module head, TorchSharp.Modules.OptimizerHelper opt, int step) =>
        TrainingCheckpoint.Save(folder, new[] { ("model.safetensors", model.state_dict()), ("head.safetensors", head.state_dict()) }, opt, step, "distil");
}
