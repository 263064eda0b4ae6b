using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>Timestep MLP (diffusers <c>TimestepEmbedding</c>): <c>linear_1</c> → SiLU → <c>linear_2</c> [→ SiLU].</summary>
internal sealed class TimestepEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Linear linear_1;
    private readonly Linear linear_2;
    private readonly bool _postAct;

    /// <summary>Creates the MLP.</summary>
    /// <param name="inChannels">Width of the timestep features.</param>
    /// <param name="timeEmbedDim">Hidden and output width.</param>
    /// <param name="postAct">Apply SiLU after <c>linear_2</c> (<c>timestep_post_act</c>).</param>
    /// <param name="device">Device of the weights.</param>
    /// <param name="dtype">Dtype of the weights.</param>
    public TimestepEmbedding(int inChannels, int timeEmbedDim, bool postAct, Device device, ScalarType dtype) : base(nameof(TimestepEmbedding))
    {
        linear_1 = KandinskyLayers.Linear(inChannels, timeEmbedDim, device, dtype);
        linear_2 = KandinskyLayers.Linear(timeEmbedDim, timeEmbedDim, device, dtype);
        _postAct = postAct;
        RegisterComponents();
    }

    /// <summary>[B, inChannels] → [B, timeEmbedDim].</summary>
    public override Tensor forward(Tensor sample)
    {
        using var scope = torch.NewDisposeScope();
        var h = linear_2.call(nn.functional.silu(linear_1.call(sample)));
        if (_postAct) h = nn.functional.silu(h);
        return h.MoveToOuterDisposeScope();
    }
}
