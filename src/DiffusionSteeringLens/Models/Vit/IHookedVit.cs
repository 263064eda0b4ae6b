using DiffusionSteeringLens.Hooks;
using TorchSharp;

namespace DiffusionSteeringLens.Models.Vit;

/// <summary>
/// A Vision Transformer with named hook points, the abstraction every lens programs against. Pre-LN block layout:
/// resid_mid = resid_pre + attn_out; resid_post = resid_mid + mlp_out (attn_out/mlp_out are what is added to the residual,
/// e.g. after DINOv2's layer scale). The read-out maps a residual-stream vector to the model's output embedding.
/// Implementations derive from <see cref="HookedVitModel"/>, which supplies caching, position filters, on-demand hook
/// points and per-run state: CLIP vision, ViT for image classification and DINOv2 (all HF layout).
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
    /// The read-out R: final norm then the family's output head (CLIP: visual projection; ViT: classifier, so the output
    /// is class logits; DINOv2: none, the output is the normalised CLS), applied to the last axis of any stack [..., D] → [..., P]
    /// (e.g. a CLS residual, a stack of head results). Batched; no per-item loop.
    /// </summary>
    torch.Tensor Readout(torch.Tensor residual);

    /// <summary>
    /// The scale the read-out's final LayerNorm divides by, √(Var(x) + ε) over the last axis: [..., D] → [..., 1].
    /// Pass it (taken from a clean residual) to <see cref="ReadoutFrozen"/>.
    /// </summary>
    torch.Tensor ReadoutScale(torch.Tensor residual);

    /// <summary>
    /// The read-out with the final LayerNorm's scale frozen (TransformerLens <c>apply_ln_to_stack</c> style): x is centred,
    /// divided by the given <paramref name="scale"/> instead of its own, then the norm's weight and bias and the output head
    /// are applied. Affine in x, so adding a scaled vector to a residual moves the output in proportion. With
    /// <c>scale = ReadoutScale(x)</c> it equals <see cref="Readout"/> up to rounding.
    /// </summary>
    /// <param name="residual">Residual-stream vectors [..., D].</param>
    /// <param name="scale">Positive scales [..., 1] with the same number of axes, broadcast against the residual's leading axes.</param>
    torch.Tensor ReadoutFrozen(torch.Tensor residual, torch.Tensor scale);
}
