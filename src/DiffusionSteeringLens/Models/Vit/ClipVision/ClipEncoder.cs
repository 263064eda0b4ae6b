using DiffusionSteeringLens.Hooks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.ClipVision;

/// <summary>The stack of CLIP blocks (HF <c>CLIPEncoder</c>; checkpoint keys <c>encoder.layers.{i}.…</c>).</summary>
internal sealed class ClipEncoder : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<ClipEncoderLayer> layers;

    /// <summary>Builds <c>num_hidden_layers</c> blocks.</summary>
    public ClipEncoder(ClipVisionConfig config, HookRuntime runtime, Device device, ScalarType dtype)
        : base(nameof(ClipEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        layers = new ModuleList<ClipEncoderLayer>();
        for (int i = 0; i < config.NumHiddenLayers; i++) layers.Add(new ClipEncoderLayer(config, i, runtime, device, dtype));
        RegisterComponents();
    }

    /// <summary>The blocks in order.</summary>
    public IReadOnlyList<ClipEncoderLayer> Layers => layers.ToArray();

    /// <summary>Residual entering layer 0 → output of the last layer (no final norm).</summary>
    public override Tensor forward(Tensor x)
    {
        return LayerStack.Run(layers, x); // a dispose scope per block: intermediates freed block by block
    }
}
