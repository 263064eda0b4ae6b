using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Runtime;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Tests.Runtime;

/// <summary>
/// libtorch 2.10's CPU float32 input gradient of a 3×3 conv with an output-channel count that is not a multiple of 16
/// is wrong (≈0.4 relative) and sometimes NaN; <see cref="SmallOutputConv"/> must give float64-reference gradients.
/// </summary>
public sealed class SmallOutputConvTests
{
    private const double GradientTolerance = 1e-5;
    private readonly ITestOutputHelper _output;

    /// <summary>Creates the test class.</summary>
    public SmallOutputConvTests(ITestOutputHelper output) => _output = output;

    /// <summary>Input, weight and bias gradients match float64 for the channel counts the UNet and MoVQ use.</summary>
    [Theory]
    [InlineData(32, 6)]  // toy UNet conv_out (3 ε + 3 variance channels)
    [InlineData(32, 8)]  // Kandinsky UNet conv_out
    [InlineData(32, 3)]  // MoVQ decoder conv_out (RGB)
    [InlineData(32, 16)] // already safe: the module path
    public void GradientsMatchFloat64(int inChannels, int outChannels)
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        var conv = nn.Conv2d(inChannels, outChannels, 3, padding: 1);
        var x0 = randn(16, inChannels, 16, 16);
        var upstream = randn(16, outChannels, 16, 16);

        var w64 = conv.weight!.detach().to(ScalarType.Float64).requires_grad_(true);
        var b64 = conv.bias!.detach().to(ScalarType.Float64).requires_grad_(true);
        var x64 = x0.to(ScalarType.Float64).requires_grad_(true);
        nn.functional.conv2d(x64, w64, b64, padding: new long[] { 1, 1 }).backward(new[] { upstream.to(ScalarType.Float64) });

        for (int repeat = 0; repeat < 3; repeat++) // the defect's NaNs are intermittent
        {
            conv.zero_grad();
            var x = x0.clone().requires_grad_(true);
            var y = SmallOutputConv.Forward(conv, x, 1);
            Assert.Equal(new long[] { 16, outChannels, 16, 16 }, y.shape);
            y.backward(new[] { upstream });
            double input = TensorAssert.CloseRelative(x64.grad!, x.grad!, GradientTolerance, $"input gradient ({outChannels} out channels)");
            double weight = TensorAssert.CloseRelative(w64.grad!, conv.weight!.grad!, GradientTolerance, "weight gradient");
            double bias = TensorAssert.CloseRelative(b64.grad!, conv.bias!.grad!, GradientTolerance, "bias gradient");
            if (repeat == 0) _output.WriteLine($"{inChannels}->{outChannels}: relative error input {input:E2}, weight {weight:E2}, bias {bias:E2}");
        }
    }

    /// <summary>Without autograd the module itself runs (reference numerics untouched); with it the values agree.</summary>
    [Fact]
    public void ValuesAreTheModuleValues()
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        var conv = nn.Conv2d(32, 6, 3, padding: 1);
        var x = randn(4, 32, 8, 8);
        var reference = conv.call(x);
        using (no_grad()) TensorAssert.Equal(reference.detach(), SmallOutputConv.Forward(conv, x, 1), "inference path");
        var padded = SmallOutputConv.Forward(conv, x.clone().requires_grad_(true), 1);
        TensorAssert.CloseRelative(reference.detach(), padded.detach(), 1e-6, "gradient path values");
    }

    /// <summary>End to end: the golden UNet's gradient w.r.t. its input sample matches a float64 copy of the model.</summary>
    [Fact]
    public void UnetInputGradientMatchesFloat64()
    {
        using var scope = NewDisposeScope();
        string folder = Fixtures.Golden("unet");
        using var model32 = UNet2DConditionModel.FromPretrained(folder);
        using var model64 = UNet2DConditionModel.FromPretrained(folder, new ModelLoadOptions { DType = ScalarType.Float64 });
        using var cases = DiffusionSteeringLens.IO.SafetensorsFile.Open(Path.Combine(folder, "cases.safetensors"));
        var sample = cases.Load("case0.sample");
        var timestep = cases.Load("case0.timestep");
        var embeds = cases.Load("case0.image_embeds");
        manual_seed(9);

        Tensor Gradient(UNet2DConditionModel model, ScalarType dtype, Tensor weights)
        {
            var x = sample.to(dtype).requires_grad_(true);
            var y = model.Forward(x, timestep, embeds.to(dtype));
            (y * weights.to(dtype)).sum().backward();
            return x.grad!;
        }
        var weights = randn(sample.shape[0], model32.Config.OutChannels, sample.shape[2], sample.shape[3]);
        var g64 = Gradient(model64, ScalarType.Float64, weights);
        var g32 = Gradient(model32, ScalarType.Float32, weights);
        double err = TensorAssert.CloseRelative(g64, g32, 1e-4, "UNet input gradient");
        _output.WriteLine($"golden UNet (out_channels {model32.Config.OutChannels}): input-gradient relative error vs float64 {err:E2}");
    }
}
