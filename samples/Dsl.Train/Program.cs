using DiffusionSteeringLens.Runtime;
using DiffusionSteeringLens.Train;
using TorchSharp;

// Trains the shipped toy model (samples/models/shapes32) and measures it. With --encoder-steps/--decoder-steps the run is
// bit-reproducible for a given --seed and --threads (reproduce.sh has the exact commands of the shipped weights); the
// --encoder-seconds/--decoder-seconds budgets instead fit a machine's speed.
var options = TrainOptions.Parse(args);
TorchNativeLoader.EnsureLoaded(); // opt in to the libtorch load fix (Debian 12 / Ubuntu 22.04) before the first tensor
torch.set_num_threads(options.Threads);
Log.Line($"dsl-train: output {Path.GetFullPath(options.Output)}, phases {string.Join(",", options.Phases)}, seed {options.Seed}, threads {options.Threads}");
var configs = ToyModel.WriteConfigs(options.Output, options.Layers, options.Heads);
foreach (var phase in options.Phases)
{
    var start = DateTime.UtcNow;
    switch (phase)
    {
        case "encoder": EncoderTraining.Run(options, configs.Encoder); break;
        case "decoder": DecoderTraining.Run(options, configs.UNet, configs.Scheduler); break;
        case "distil": DistilTraining.Run(options, configs.Encoder); break;
        case "decoder-finetune": DecoderFineTuning.Run(options, configs.UNet, configs.Scheduler); break;
        case "marked-images": ImageFolderExport.Run(options); break;
        case "evaluate": Evaluation.Run(options); break;
        default: throw new ArgumentException($"unknown phase '{phase}' (encoder, decoder, distil, decoder-finetune, marked-images, evaluate).");
    }
    Log.Line($"phase {phase} done in {(DateTime.UtcNow - start).TotalMinutes:F1} min");
}
