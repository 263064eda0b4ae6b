using System.Security.Cryptography;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Synthetic;
using DiffusionSteeringLens.Tests.TestSupport;
using DiffusionSteeringLens.Train;

namespace DiffusionSteeringLens.Tests.Train;

/// <summary>
/// The trainer's <c>decoder-finetune</c> phase (the shared marked96 decoder, docs/toy-model.md §11) on a few small steps:
/// a run stopped after a checkpoint and continued writes the same bytes as one uninterrupted run, and the weights move.
/// </summary>
[Trait("Category", "ShippedModel")]
public sealed class DecoderFineTuningTests
{
    private static TrainOptions Options(string output, int? stopAfter = null)
    {
        var models = Path.GetDirectoryName(ShippedModels.Require(ShippedModels.Shapes32))!;
        return new TrainOptions
        {
            Output = output, Phases = new[] { "decoder-finetune" }, Seed = 1,
            DecoderInit = Path.Combine(models, ShippedModels.Shapes32, "decoder"),
            ConditionEncoders = new[] { Path.Combine(models, ShippedModels.Shapes32, "encoder"), Path.Combine(ShippedModels.Require(ShippedModels.Marked96), "encoder") },
            DecoderSteps = 3, DecoderBatch = 4, CheckpointSteps = 1, StopAfterSteps = stopAfter ?? int.MaxValue,
        };
    }

    private static void Run(TrainOptions o)
    {
        var configs = ToyModel.WriteConfigs(o.Output);
        DecoderFineTuning.Run(o, configs.UNet, configs.Scheduler);
    }

    private static string Weights(string root) => Path.Combine(ToyModel.UNetDir(root), "diffusion_pytorch_model.safetensors");

    [Fact]
    public void AStoppedAndContinuedRunWritesTheSameBytesAsOneRun()
    {
        string whole = Fixtures.TempFolder(), resumed = Fixtures.TempFolder();
        Run(Options(whole));
        Run(Options(resumed, stopAfter: 2));
        Assert.False(File.Exists(Weights(resumed)));                                   // stopped: only the checkpoint
        Assert.True(File.Exists(Path.Combine(resumed, "checkpoint", "step.txt")));
        Run(Options(resumed));
        Assert.Equal(SHA256.HashData(File.ReadAllBytes(Weights(whole))), SHA256.HashData(File.ReadAllBytes(Weights(resumed))));

        // The run trained: its EMA weights are not the initial decoder's (same keys, some values moved).
        var init = Path.Combine(Options(whole).DecoderInit!, "unet", "diffusion_pytorch_model.safetensors");
        using var before = SafetensorsFile.Open(init);
        using var after = SafetensorsFile.Open(Weights(whole));
        Assert.Equal(before.Names.OrderBy(n => n, StringComparer.Ordinal), after.Names.OrderBy(n => n, StringComparer.Ordinal));
        double moved = before.Names.Max(n =>
        {
            using var a = before.Load(n);
            using var b = after.Load(n);
            using var diff = a - b;
            using var d = diff.abs().max();
            return d.item<float>();
        });
        Assert.True(moved > 0, "fine-tuning left every weight unchanged");
    }

    [Fact]
    public void ABatchThatTheEncodersCannotShareIsRefused()
    {
        var o = Options(Fixtures.TempFolder()) with { DecoderBatch = 5 };
        var e = Assert.Throws<ArgumentException>(() => Run(o));
        Assert.Contains("multiple of the 2 condition encoders", e.Message, StringComparison.Ordinal);
    }
}
