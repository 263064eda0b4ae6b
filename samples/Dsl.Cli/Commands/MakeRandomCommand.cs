using DiffusionSteeringLens.Models.Vit.ClipVision;
using System.CommandLine;
using DiffusionSteeringLens.IO;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>
/// <c>dsl make-random KIND --config FILE --out DIR</c>: a random-init model folder in the exact Hugging Face layout
/// (config.json + weights with the real key names and shapes), so full-size scale numbers can be reproduced without
/// downloads. The image encoder is written in float16 like the released Kandinsky 2.2 encoder; UNet and MoVQ in float32.
/// Real configs are in <c>benchmarks/configs/</c>. Seeded: the same seed writes the same bytes.
/// </summary>
internal static class MakeRandomCommand
{
    private static readonly Dictionary<string, RandomCheckpointKind> Kinds = new(StringComparer.Ordinal)
    {
        ["image_encoder"] = RandomCheckpointKind.ImageEncoder, ["unet"] = RandomCheckpointKind.Unet, ["movq"] = RandomCheckpointKind.MoVq,
    };

    public static Command Create(CliHost host)
    {
        var kind = new Argument<string>("kind") { Description = string.Join(", ", Kinds.Keys) };
        var config = new Option<string>("--config") { Description = "config.json to build from (e.g. benchmarks/configs/clip_vision_bigG.config.json).", Required = true, HelpName = "FILE" };
        var output = new Option<string>("--out") { Description = "Folder to write (config.json, weights, and for the encoder preprocessor_config.json).", Required = true, HelpName = "DIR" };
        var seed = new Option<long>("--seed") { Description = "Seed of the random weights.", DefaultValueFactory = _ => 0 };
        var command = new Command("make-random", "Write a random-init model folder in the exact Hugging Face layout from a real config (no downloads).")
            { kind, config, output, seed };
        command.SetAction((r, ct) => CommandRunner.Guard(host, false, () =>
        {
            var k = r.GetValue(kind)!;
            if (!Kinds.TryGetValue(k, out var which)) throw new CliUsageException($"unknown kind '{k}'; use one of: {string.Join(", ", Kinds.Keys)}.");
            var configPath = Path.GetFullPath(r.GetValue(config)!);
            if (!File.Exists(configPath)) throw new FileNotFoundException($"config not found: {configPath}");
            var folder = Path.GetFullPath(r.GetValue(output)!);
            var (tensors, bytes) = RandomCheckpoint.Write(which, configPath, folder, r.GetValue(seed), ct);
            if (which == RandomCheckpointKind.ImageEncoder) WriteProcessorConfig(folder, ClipVisionConfig.Load(configPath).ImageSize);
            host.Out.WriteLine($"wrote {folder}: {tensors} tensors, {bytes / 1048576.0:0.0} MB ({RandomCheckpoint.WeightsFileName(which)})");
            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    // CLIP's image preprocessing (bicubic resize, centre crop, CLIP mean/std) at the config's input size.
    private static void WriteProcessorConfig(string folder, int size) => File.WriteAllText(Path.Combine(folder, "preprocessor_config.json"), $$"""
        {
          "crop_size": { "height": {{size}}, "width": {{size}} },
          "do_center_crop": true, "do_convert_rgb": true, "do_normalize": true, "do_rescale": true, "do_resize": true,
          "image_mean": [0.48145466, 0.4578275, 0.40821073],
          "image_processor_type": "CLIPImageProcessor",
          "image_std": [0.26862954, 0.26130258, 0.27577711],
          "resample": 3, "rescale_factor": 0.00392156862745098,
          "size": { "shortest_edge": {{size}} }
        }
        """);
}
