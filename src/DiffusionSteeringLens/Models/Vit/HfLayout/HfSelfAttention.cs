using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.HfLayout;

/// <summary>The query/key/value projections of HF <c>ViTSelfAttention</c> / <c>Dinov2SelfAttention</c> (keys <c>query</c>, <c>key</c>, <c>value</c>).</summary>
internal sealed class HfSelfAttention : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;

    public HfSelfAttention(int hidden, bool qkvBias, Device device, ScalarType dtype) : base(nameof(HfSelfAttention))
    {
        query = nn.Linear(hidden, hidden, hasBias: qkvBias, device: device, dtype: dtype);
        key = nn.Linear(hidden, hidden, hasBias: qkvBias, device: device, dtype: dtype);
        value = nn.Linear(hidden, hidden, hasBias: qkvBias, device: device, dtype: dtype);
        RegisterComponents();
    }

    public Linear Query => query;
    public Linear Key => key;
    public Linear Value => value;
}
