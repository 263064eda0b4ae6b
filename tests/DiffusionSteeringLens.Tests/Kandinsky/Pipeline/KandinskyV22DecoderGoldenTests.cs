using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.Models.Kandinsky;
using DiffusionSteeringLens.Models.Kandinsky.MoVq;
using DiffusionSteeringLens.Models.Kandinsky.Schedulers;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Runtime;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Kandinsky.Pipeline;

/// <summary>
/// The full Kandinsky 2.2 sampling loop against recorded <c>KandinskyV22Pipeline</c> runs: in float32 against the recorded
/// float32 run, and in float64 against the same loop run by the reference in float64 (<see cref="Float64Reference"/>).
/// </summary>
[Trait("Category", "Golden")]
public sealed class KandinskyV22DecoderGoldenTests
{
    private const double LatentsRelTol = 1e-3;

    // Float64 bounds. Even a float64 run keeps one float32 step, by design in both implementations: the sinusoidal
    // timestep features are computed in float32 (diffusers' Timesteps), and sin/cos at arguments near 1000 differ by an
    // ulp (≈6e-5 absolute) between libtorch's kernel sets. These random-weight fixtures amplify that (latents reach |x|≈60
    // in four steps). Measured with the reference itself (diffusers v0.27.2, torch 1.13, float64) under
    // ATEN_CPU_CAPABILITY=avx2 vs default: final_latents 2.3e-6, decoded_raw 1.7e-5 relative, image 4.4e-4 absolute; the
    // library vs the reference in float64 (avx2 and default): ≤ 2.1e-6, ≤ 2.1e-5, ≤ 6.7e-4. The bounds sit about five
    // times above both; any real formula or wiring error moves these outputs by orders of magnitude more.
    private const double Float64LatentsRelTol = 1e-5;
    private const double Float64RawRelTol = 1e-4;
    private const double Float64ImageAbsTol = 2e-3;
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
        Assert.Equal(c.Steps * c.Pictures, unet.Calls);
        _output.WriteLine($"{goldenCase}: worst per-step latents_in relative error {unet.MaxLatentsInError:E3}");
        Check(c, recorder, image);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Real_unet_reproduces_the_reference_pipeline(GoldenCase goldenCase)
    {
        goldenCase.EnsurePresent();
        using var c = new PipelineCase(goldenCase);
        using var conditioning = Conditioning(c);
        using var decoder = RealDecoder(c, conditioning, torch.ScalarType.Float32, out var unet, out var recorder);
        using var image = Run(decoder, c);
        Assert.Equal(c.Steps * c.Pictures, unet.Calls);
        _output.WriteLine($"{goldenCase}: worst per-step latents_in relative error {unet.MaxLatentsInError:E3}");
        Check(c, recorder, image);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Float64_library_matches_the_float64_reference(GoldenCase goldenCase)
    {
        goldenCase.EnsurePresent();
        using var c = new PipelineCase(goldenCase);
        using var reference = Float64Reference.Load(c);
        using var conditioning = Conditioning(c);
        using var decoder = RealDecoder(c, conditioning, torch.ScalarType.Float64, out var unet, out var recorder);
        using var image = Run(decoder, c);
        Assert.Equal(c.Steps * c.Pictures, unet.Calls);
        using var finalLatents = torch.cat(recorder.Inputs, 0);
        using var decodedRaw = torch.cat(recorder.Outputs, 0);
        double latents = Rel(reference.FinalLatents, finalLatents);
        double raw = Rel(reference.DecodedRaw, decodedRaw);
        double img = MaxAbs(reference.Image, image);
        _output.WriteLine($"{goldenCase}: float64 library vs float64 reference: final_latents rel {latents:E3}, decoded_raw rel {raw:E3}, image abs {img:E3}");
        Assert.True(latents <= Float64LatentsRelTol, $"{c.Case} final_latents: relative error {latents:E3} > {Float64LatentsRelTol:E1}");
        Assert.True(raw <= Float64RawRelTol, $"{c.Case} decoded_raw: relative error {raw:E3} > {Float64RawRelTol:E1}");
        Assert.True(img <= Float64ImageAbsTol, $"{c.Case} image: max abs error {img:E3} > {Float64ImageAbsTol:E1}");
    }

    private static KandinskyV22Decoder RealDecoder(PipelineCase c, torch.Tensor conditioning, torch.ScalarType dtype,
        out ReplayUNet unet, out RecordingLatentDecoder recorder)
    {
        var load = new ModelLoadOptions { DType = dtype };
        var real = UNet2DConditionModel.FromPretrained(c.ComponentFolders["unet"], load);
        unet = new ReplayUNet(real.InChannels, real.OutChannels, real.ImageEmbedDim,
            c.UnetOutputs, c.LatentsIn, c.Timesteps, conditioning, LatentsRelTol, inner: real);
        recorder = new RecordingLatentDecoder(VqModel.FromPretrained(c.ComponentFolders["movq"], load));
        return new KandinskyV22Decoder(unet, DdpmScheduler.FromPretrained(c.SchedulerConfigFile), recorder);
    }

    private static double Rel(torch.Tensor expected, torch.Tensor actual)
    {
        using var m = expected.abs().max();
        return MaxAbs(expected, actual) / m.item<double>();
    }

    private static double MaxAbs(torch.Tensor expected, torch.Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var d = (actual.to(torch.float64) - expected.to(torch.float64)).abs().max();
        return d.item<double>();
    }

    private static torch.Tensor Conditioning(PipelineCase c) =>
        c.GuidanceScale > 1 ? torch.cat(new[] { c.NegativeImageEmbeds, c.ImageEmbeds }, 0) : c.ImageEmbeds.clone();

    private static torch.Tensor Run(KandinskyV22Decoder decoder, PipelineCase c)
    {
        var noise = new ReplayNoiseSource(c.InitialLatents, c.VarianceNoises);
        var options = new KandinskyDecodeOptions
        {
            NumInferenceSteps = c.Steps,
            GuidanceScale = c.GuidanceScale,
            Height = c.Height,
            Width = c.Width,
            NoiseSource = noise,
        };
        var timesteps = new List<long>();
        var image = decoder.Decode(c.ImageEmbeds, c.NegativeImageEmbeds, options, SyncProgress.Create(p => timesteps.Add(p.Timestep)));
        // Each picture walks the whole timestep grid in turn.
        Assert.Equal(Enumerable.Repeat(c.Timesteps, c.Pictures).SelectMany(t => t), timesteps);
        return image;
    }

    private void Check(PipelineCase c, RecordingLatentDecoder recorder, torch.Tensor image)
    {
        Assert.Equal(c.Pictures, recorder.Inputs.Count);
        using var finalLatents = torch.cat(recorder.Inputs, 0);
        using var decodedRaw = torch.cat(recorder.Outputs, 0);
        double latents = TensorAssert.CloseRelative(c.FinalLatents, finalLatents, LatentsRelTol, $"{c.Case} final_latents");
        double raw = TensorAssert.CloseRelative(c.DecodedRaw, decodedRaw, LatentsRelTol, $"{c.Case} decoded_raw");
        // The image is clamp(0.5·raw + 0.5, 0, 1), a 1-Lipschitz map of 0.5·raw, so the decoded_raw bound above implies
        // |Δimage| ≤ 0.5 · LatentsRelTol · max|raw|; the image is held to exactly that. A fixed tighter bound (2e-3 before)
        // cannot hold across CPUs in float32 on these fixtures: the reference itself (diffusers, torch 1.13, float32) run
        // on an AMD EPYC misses its own stored case1 image by 7.8e-3 (avx2 kernels) and 2.7e-3 (scalar kernels). The
        // implementation is checked tightly in float64 (Float64_library_matches_the_float64_reference).
        using var rawMax = c.DecodedRaw.abs().max();
        double imageBound = 0.5 * LatentsRelTol * rawMax.item<float>();
        double img = TensorAssert.CloseAbsolute(c.Image, image, imageBound, $"{c.Case} image");
        _output.WriteLine($"{c.Case}: final_latents rel {latents:E3}, decoded_raw rel {raw:E3}, image abs {img:E3}");
    }
}
