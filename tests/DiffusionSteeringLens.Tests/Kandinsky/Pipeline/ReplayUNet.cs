using DiffusionSteeringLens.Models.Kandinsky;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Kandinsky.Pipeline;

/// <summary>
/// A UNet stand-in that checks that the pipeline fed it the recorded latents (duplicated under guidance), timestep
/// and conditioning, then returns the reference run's recorded output — or, when an inner UNet is given, that UNet's
/// real prediction. The reference denoised its B pictures as one batch; the library denoises each picture alone (its
/// canonical layout), so call k is picture k / steps at step k % steps and is checked against that picture's rows of the
/// recorded tensors (rows p and B + p under guidance: unconditional half first).
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
    public torch.ScalarType DType => _inner?.DType ?? torch.ScalarType.Float32;

    /// <summary>Calls so far.</summary>
    public int Calls { get; private set; }

    /// <summary>Worst relative error of the received latents against the recorded ones.</summary>
    public double MaxLatentsInError { get; private set; }

    public torch.Tensor Predict(torch.Tensor sample, torch.Tensor timestep, torch.Tensor imageEmbeds)
    {
        int call = Calls++;
        int steps = _timesteps.Count;
        int picture = call / steps, i = call % steps;
        long b = _latentsIn[0].shape[0];
        Assert.True(picture < b, $"UNet called {call + 1} times; only {b} pictures × {steps} steps were recorded.");
        Assert.Equal(_timesteps[i], timestep.item<long>());
        long copies = _conditioning.shape[0] / b;
        Assert.Equal(copies, sample.shape[0]);
        using var rows = torch.tensor(Enumerable.Range(0, (int)copies).Select(c => c * b + picture).ToArray());
        using var conditioning = _conditioning.index_select(0, rows);
        TensorAssert.CloseAbsolute(conditioning, imageEmbeds, 0, $"picture {picture} step{i} image_embeds");
        using var expected = _latentsIn[i].narrow(0, picture, 1);
        for (long c = 0; c < copies; c++)
        {
            using var part = sample.narrow(0, c, 1);
            MaxLatentsInError = Math.Max(MaxLatentsInError,
                TensorAssert.CloseRelative(expected, part, _tolerance, $"picture {picture} step{i} latents_in (copy {c})"));
        }
        return _inner is null ? _outputs[i].index_select(0, rows) : _inner.Predict(sample, timestep, imageEmbeds);
    }

    public void Dispose() => _inner?.Dispose();
}
