using DiffusionSteeringLens.Hooks;
using TorchSharp;

namespace DiffusionSteeringLens.Models.Vit;

/// <summary>
/// A Vision Transformer with named hook points, the abstraction every lens programs against. Pre-LN block layout:
/// resid_mid = resid_pre + attn_out; resid_post = resid_mid + mlp_out. The read-out maps a residual-stream vector to the
/// model's output embedding (final norm + projection). Implementations: CLIP vision (HF layout); others can follow
/// without lens changes.
/// </summary>
/// <remarks>Inputs are preprocessed pixel tensors [B, C, S, S] on any device; results are on <see cref="Device"/>.
/// Returned tensors are owned by the caller.</remarks>
public interface IHookedVit : IDisposable
{
    /// <summary>Shape facts (layers, heads, widths, token layout).</summary>
    VitArchitecture Architecture { get; }

    /// <summary>Device of the weights.</summary>
    torch.Device Device { get; }

    /// <summary>Compute dtype.</summary>
    torch.ScalarType DType { get; }

    /// <summary>Every hook point name this model exposes.</summary>
    IReadOnlyList<string> HookPointNames { get; }

    /// <summary>Plain forward: output embedding [B, P]. Identical to a run with no hooks.</summary>
    torch.Tensor Forward(torch.Tensor pixelValues);

    /// <summary>Forward that records the requested activations; optional hooks apply first (cached values are post-hook).</summary>
    VitRun RunWithCache(torch.Tensor pixelValues, CacheRequest request, IReadOnlyList<HookBinding>? hooks = null);

    /// <summary>Forward with interventions bound to hook points; returns the output embedding [B, P].</summary>
    torch.Tensor RunWithHooks(torch.Tensor pixelValues, IReadOnlyList<HookBinding> hooks);

    /// <summary>
    /// The read-out R: final norm then projection, applied to the last axis of any stack [..., D] → [..., P]
    /// (e.g. a CLS residual, a stack of head results). Batched; no per-item loop.
    /// </summary>
    torch.Tensor Readout(torch.Tensor residual);

    /// <summary>
    /// The "negative" embedding Kandinsky's prior builds: the output for an all-zeros pixel tensor [1, C, S, S]
    /// (zeros after normalisation). Shape [1, P].
    /// </summary>
    torch.Tensor ZeroImageEmbedding();
}
