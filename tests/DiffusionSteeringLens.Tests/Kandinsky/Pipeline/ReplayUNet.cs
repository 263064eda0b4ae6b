using DiffusionSteeringLens.Models.Kandinsky;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Kandinsky.Pipeline;

/// <summary>
/// A UNet stand-in that checks that the pipeline fed it the recorded latents (duplicated under guidance), timestep
/// and conditioning, then returns the reference run's recorded output — or, when an inner UNet is given, that UNet's
/// real prediction.
/// </summary>
internal sealed class ReplayUNet : IImageConditionedUNet
{
    private readonly IReadOnlyList<torch.Tensor> _outputs;
    private readonly IReadOnlyList<torch.Tensor> _latentsIn;
    private readonly IReadOnlyList<long> _timesteps;
    private readonly torch.Tensor _conditioning;
    private readonly double _tolerance;
    private readonly IImageConditionedUNet? _inner;

    public ReplayUNet(int inChannels, int outChannels, int imageEmbedDim, IReadOnlyList<torch.Tensor> outputs,
        IReadOnlyList<torch.Tensor> latentsIn, IReadOnlyList<long> timesteps, torch.Tensor conditioning, double tolerance,
        IImageConditionedUNet? inner = null)
    {
        _inner = inner;
        InChannels = inChannels;
        OutChannels = outChannels;
        ImageEmbedDim = imageEmbedDim;
        _outputs = outputs;
        _latentsIn = latentsIn;
        _timesteps = timesteps;
        _conditioning = conditioning;
        _tolerance = tolerance;
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public int ImageEmbedDim { get; }
    public torch.Device Device => torch.CPU;
    public torch.ScalarType DType => torch.ScalarType.Float32;

    /// <summary>Calls so far.</summary>
    public int Calls { get; private set; }

    /// <summary>Worst relative error of the received latents against the recorded ones.</summary>
    public double MaxLatentsInError { get; private set; }

    public torch.Tensor Predict(torch.Tensor sample, torch.Tensor timestep, torch.Tensor imageEmbeds)
    {
        int i = Calls++;
        Assert.True(i < _outputs.Count, $"UNet called {i + 1} times; only {_outputs.Count} outputs were recorded.");
        Assert.Equal(_timesteps[i], timestep.item<long>());
        TensorAssert.CloseAbsolute(_conditioning, imageEmbeds, 0, $"step{i} image_embeds");
        var expected = _latentsIn[i];
        long b = expected.shape[0];
        var copies = sample.shape[0] / b;
        Assert.Equal(sample.shape[0], copies * b);
        for (long c = 0; c < copies; c++)
        {
            using var part = sample.narrow(0, c * b, b);
            MaxLatentsInError = Math.Max(MaxLatentsInError, TensorAssert.CloseRelative(expected, part, _tolerance, $"step{i} latents_in (copy {c})"));
        }
        return _inner is null ? _outputs[i].clone() : _inner.Predict(sample, timestep, imageEmbeds);
    }

    public void Dispose() => _inner?.Dispose();
}
