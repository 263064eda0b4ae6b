using System.Globalization;

namespace DiffusionSteeringLens.Train;

/// <summary>Command-line options of the training program (<c>--name value</c> pairs).</summary>
internal sealed record TrainOptions
{
    public string Output { get; init; } = "samples/models/shapes32";
    public string[] Phases { get; init; } = { "encoder", "decoder", "evaluate" };
    public int Seed { get; init; } = 1234;
    public int Threads { get; init; } = 2;
    public double EncoderSeconds { get; init; } = 540;
    /// <summary>If set, the encoder runs exactly this many steps and its cosine is driven by steps (bit-reproducible).</summary>
    public int? EncoderSteps { get; init; }
    public int EncoderBatch { get; init; } = 64;
    public string? EncoderInit { get; init; }
    public string HeadFile { get; init; } = Path.Combine(Path.GetTempPath(), "dsl-train-attribute-head.safetensors");
    public double JitterWeight { get; init; } = 10;
    public double EncoderLearningRate { get; init; } = 1.5e-3;
    public double DecoderSeconds { get; init; } = 2700;
    public int DecoderBatch { get; init; } = 64;
    /// <summary>If set, the decoder runs exactly this many steps and its cosine is driven by steps (bit-reproducible).</summary>
    public int? DecoderSteps { get; init; }
    public double CheckpointSeconds { get; init; } = 300;
    /// <summary>Stops a phase early without changing its schedule (to check a run's fingerprints against a full run).</summary>
    public int StopAfterSteps { get; init; } = int.MaxValue;
    public int EvalImages { get; init; } = 200;
    public int FidelitySeed { get; init; } = FidelityEvaluation.Seed;
    public int LensImages { get; init; } = 50;
    public int HeadImageImages { get; init; } = 16;
    public int OverlayImages { get; init; } = 50;
    public string[] EvalParts { get; init; } = { "fidelity", "sweep", "overlay", "heads" };
    public int OverlayTopK { get; init; } = 2;
    public int SamplingSteps { get; init; } = 25;
    public double Guidance { get; init; } = 4;
    /// <summary>Encoder depth and heads per layer (the shipped shapes32 model: 4 × 4).</summary>
    public int Layers { get; init; } = 4;
    public int Heads { get; init; } = 4;
    /// <summary>
    /// Testbed distillation: the teacher encoder folder (null = the shipped shapes32 encoder, found by ShippedModels), step
    /// count, weight of the regression loss, checkpoint period.
    /// </summary>
    public string? Teacher { get; init; }
    public int DistilSteps { get; init; } = 2000;
    public double DistilWeight { get; init; } = 10;
    public int CheckpointSteps { get; init; } = 100;
    /// <summary>Testbed distillation with the planted head roles of <see cref="PlantedRoles"/>, and the weight of its attention-leak penalty.</summary>
    public bool Plant { get; init; }
    public double PlantWeight { get; init; } = 100;
    /// <summary>Weight of the planted readers' objective (their CLS attention on their marks), see <see cref="PlantedRoles.ReaderPenalty"/>.</summary>
    public double PlantReaderWeight { get; init; } = 1;
    /// <summary>Decoder folder for evaluation; default OUTPUT/decoder (the testbed encoders use samples/models/marked96/decoder).</summary>
    public string? DecoderFolder { get; init; }
    /// <summary>Phase "decoder-finetune": the decoder folder it starts from, the encoder folders it conditions on, its peak learning rate.</summary>
    public string? DecoderInit { get; init; }
    public string[] ConditionEncoders { get; init; } = Array.Empty<string>();
    public double DecoderLearningRate { get; init; } = 2e-4;
    /// <summary>Phase "marked-images": how many images, from which seed.</summary>
    public int ImageCount { get; init; } = 150;
    public int ImageSeed { get; init; } = 8_000_000;

    public static TrainOptions Parse(string[] args)
    {
        var o = new TrainOptions();
        for (int i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length) throw new ArgumentException($"option {args[i]} needs a value.");
            string v = args[i + 1];
            double D() => double.Parse(v, CultureInfo.InvariantCulture);
            int I() => int.Parse(v, CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--output" => o with { Output = v },
                "--phases" => o with { Phases = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--seed" => o with { Seed = I() },
                "--threads" => o with { Threads = I() },
                "--encoder-seconds" => o with { EncoderSeconds = D() },
                "--encoder-steps" => o with { EncoderSteps = I() },
                "--encoder-batch" => o with { EncoderBatch = I() },
                "--encoder-init" => o with { EncoderInit = v },
                "--head-file" => o with { HeadFile = v },
                "--jitter-weight" => o with { JitterWeight = D() },
                "--encoder-lr" => o with { EncoderLearningRate = D() },
                "--decoder-seconds" => o with { DecoderSeconds = D() },
                "--decoder-batch" => o with { DecoderBatch = I() },
                "--decoder-steps" => o with { DecoderSteps = I() },
                "--checkpoint-seconds" => o with { CheckpointSeconds = D() },
                "--stop-after-steps" => o with { StopAfterSteps = I() },
                "--eval-images" => o with { EvalImages = I() },
                "--fidelity-seed" => o with { FidelitySeed = I() },
                "--lens-images" => o with { LensImages = I() },
                "--head-image-images" => o with { HeadImageImages = I() },
                "--overlay-images" => o with { OverlayImages = I() },
                "--eval-parts" => o with { EvalParts = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--overlay-top-k" => o with { OverlayTopK = I() },
                "--sampling-steps" => o with { SamplingSteps = I() },
                "--guidance" => o with { Guidance = D() },
                "--layers" => o with { Layers = I() },
                "--heads" => o with { Heads = I() },
                "--teacher" => o with { Teacher = v },
                "--distil-steps" => o with { DistilSteps = I() },
                "--distil-weight" => o with { DistilWeight = D() },
                "--checkpoint-steps" => o with { CheckpointSteps = I() },
                "--plant" => o with { Plant = I() != 0 },
                "--plant-weight" => o with { PlantWeight = D() },
                "--plant-reader-weight" => o with { PlantReaderWeight = D() },
                "--decoder-folder" => o with { DecoderFolder = v },
                "--decoder-init" => o with { DecoderInit = v },
                "--condition-encoders" => o with { ConditionEncoders = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--decoder-lr" => o with { DecoderLearningRate = D() },
                "--image-count" => o with { ImageCount = I() },
                "--image-seed" => o with { ImageSeed = I() },
                _ => throw new ArgumentException($"unknown option {args[i]}."),
            };
        }
        return o;
    }
}
