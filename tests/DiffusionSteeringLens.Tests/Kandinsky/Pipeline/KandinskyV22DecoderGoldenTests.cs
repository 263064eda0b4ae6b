using DiffusionSteeringLens.Models.Kandinsky;
using DiffusionSteeringLens.Models.Kandinsky.MoVq;
using DiffusionSteeringLens.Models.Kandinsky.Schedulers;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Kandinsky.Pipeline;

/// <summary>The full Kandinsky 2.2 sampling loop against recorded <c>KandinskyV22Pipeline</c> runs.</summary>
[Trait("Category", "Golden")]
public sealed class KandinskyV22DecoderGoldenTests
{
    private const double LatentsRelTol = 1e-3;
    private const double ImageAbsTol = 2e-3;
    private readonly ITestOutputHelper _output;

    public KandinskyV22DecoderGoldenTests(ITestOutputHelper output) => _output = output;

    public static IEnumerable<object[]> Cases() => Fixtures.Cases("pipeline", f => Fixtures.PrefixCases(f));

    [Theory, MemberData(nameof(Cases))]
    public void Replayed_unet_outputs_reproduce_the_reference_loop(GoldenCase goldenCase)
    {
        goldenCase.EnsurePresent();
        using var c = new PipelineCase(goldenCase);
        using var conditioning = Conditioning(c);
        long outChannels = c.UnetOutputs[0].shape[1];
        var unet = new ReplayUNet((int)c.InitialLatents.shape[1], (int)outChannels, (int)c.ImageEmbeds.shape[1],
            c.UnetOutputs, c.LatentsIn, c.Timesteps, conditioning, LatentsRelTol);
        var recorder = new RecordingLatentDecoder(VqModel.FromPretrained(c.ComponentFolders["movq"]));
        using var decoder = new KandinskyV22Decoder(unet, DdpmScheduler.FromPretrained(c.SchedulerConfigFile), recorder);
        using var image = Run(decoder, c);
        Assert.Equal(c.Steps, unet.Calls);
        _output.WriteLine($"{goldenCase}: worst per-step latents_in relative error {unet.MaxLatentsInError:E3}");
        Check(c, recorder, image);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Real_unet_reproduces_the_reference_pipeline(GoldenCase goldenCase)
    {
        goldenCase.EnsurePresent();
        using var c = new PipelineCase(goldenCase);
        using var conditioning = Conditioning(c);
        var real = UNet2DConditionModel.FromPretrained(c.ComponentFolders["unet"]);
        var unet = new ReplayUNet(real.InChannels, real.OutChannels, real.ImageEmbedDim,
            c.UnetOutputs, c.LatentsIn, c.Timesteps, conditioning, LatentsRelTol, inner: real);
        var recorder = new RecordingLatentDecoder(VqModel.FromPretrained(c.ComponentFolders["movq"]));
        using var decoder = new KandinskyV22Decoder(unet, DdpmScheduler.FromPretrained(c.SchedulerConfigFile), recorder);
        using var image = Run(decoder, c);
        Assert.Equal(c.Steps, unet.Calls);
        _output.WriteLine($"{goldenCase}: worst per-step latents_in relative error {unet.MaxLatentsInError:E3}");
        Check(c, recorder, image);
    }

    private static torch.Tensor Conditioning(PipelineCase c) =>
        c.GuidanceScale > 1 ? torch.cat(new[] { c.NegativeImageEmbeds, c.ImageEmbeds }, 0) : c.ImageEmbeds.clone();

    private static torch.Tensor Run(KandinskyV22Decoder decoder, PipelineCase c)
    {
        var noise = new ReplayNoiseSource(c.InitialLatents, c.VarianceNoises);
        var options = new DecodeOptions
        {
            NumInferenceSteps = c.Steps,
            GuidanceScale = c.GuidanceScale,
            Height = c.Height,
            Width = c.Width,
            NoiseSource = noise,
            BatchSize = (int)c.ImageEmbeds.shape[0],
        };
        var timesteps = new List<long>();
        var image = decoder.Decode(c.ImageEmbeds, c.NegativeImageEmbeds, options, SyncProgress.Create(p => timesteps.Add(p.Timestep)));
        Assert.Equal(c.Timesteps, timesteps);
        return image;
    }

    private void Check(PipelineCase c, RecordingLatentDecoder recorder, torch.Tensor image)
    {
        Assert.Single(recorder.Inputs);
        double latents = TensorAssert.CloseRelative(c.FinalLatents, recorder.Inputs[0], LatentsRelTol, $"{c.Case} final_latents");
        double raw = TensorAssert.CloseRelative(c.DecodedRaw, recorder.Outputs[0], LatentsRelTol, $"{c.Case} decoded_raw");
        double img = TensorAssert.CloseAbsolute(c.Image, image, ImageAbsTol, $"{c.Case} image");
        _output.WriteLine($"{c.Case}: final_latents rel {latents:E3}, decoded_raw rel {raw:E3}, image abs {img:E3}");
    }
}
