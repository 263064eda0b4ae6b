using DiffusionSteeringLens.Models.Vit.ClipVision;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Analysis;

/// <summary>
/// An indirect-only head (<see cref="HandBuiltClip"/>, hidden 32, 2 layers × 4 heads). The read-out LayerNorm has
/// γ = 0 on the "blind" coordinates 0 … 7 and β = 0 everywhere, so a zero-mean write u on those coordinates leaves the
/// LayerNorm's mean alone and changes only its scale: the read-out's direction cannot see it. Head A (L0H0) writes
/// exactly such a u (a constant value, all tokens); head B (L1H1) reads ⟨LN1(x), u⟩ and writes it along a fixed
/// visible direction, large enough to dominate the output. A therefore has a large total effect (through B) and no
/// direct effect. The other six heads are random and write moderately into the visible coordinates.
/// </summary>
internal static class IndirectHeadModel
{
    /// <summary>The indirect-only head A and the head B that reads it.</summary>
    public static readonly (int Layer, int Head) A = (0, 0), B = (1, 1);

    private const int Width = 32, Blind = 8, HeadDim = 8;

    public static ClipVisionModelWithProjection Build(int seed, double othersScale = 0.3)
    {
        var vit = HandBuiltClip.Zeroed(HandBuiltClip.Config(Width, projectionDim: 24));
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope(); // temporaries and views only: the parameters were created before it
        using var g = new torch.Generator((ulong)seed);
        torch.Tensor Randn(params long[] shape) => torch.randn(shape, generator: g);
        int visible = Width - Blind;

        // Embeddings live on the visible coordinates only.
        HandBuiltClip.Param(vit, "vision_model.embeddings.patch_embedding.weight").narrow(0, Blind, visible).copy_(Randn(visible, 3, 4, 4) * 0.3);
        HandBuiltClip.Param(vit, "vision_model.embeddings.position_embedding.weight").narrow(1, Blind, visible).copy_(Randn(17, visible));
        HandBuiltClip.Param(vit, "vision_model.embeddings.class_embedding").narrow(0, Blind, visible).copy_(Randn(visible));

        // u: unit, zero-mean, on the blind coordinates. v_B: unit, on the visible ones.
        var u = torch.zeros(Width);
        u.narrow(0, 0, Blind).copy_(torch.tensor(new float[] { 1, 1, 1, 1, -1, -1, -1, -1 }) / Math.Sqrt(Blind));
        var vB = torch.zeros(Width);
        vB.narrow(0, Blind, visible).copy_(Randn(visible));
        vB.div_(vB.norm());

        for (int l = 0; l < 2; l++)
        {
            var p = HandBuiltClip.Attn(l);
            var wq = HandBuiltClip.Param(vit, p + "q_proj.weight");
            var wk = HandBuiltClip.Param(vit, p + "k_proj.weight");
            var wv = HandBuiltClip.Param(vit, p + "v_proj.weight");
            var bv = HandBuiltClip.Param(vit, p + "v_proj.bias");
            var wo = HandBuiltClip.Param(vit, p + "out_proj.weight");
            for (int h = 0; h < 4; h++)
            {
                int r0 = h * HeadDim;
                if ((l, h) == A)
                {
                    HandBuiltClip.Set(bv, r0, 1);                          // z = e_0 at every token
                    wo.narrow(1, r0, 1).copy_(u.unsqueeze(1) * 10);        // o_A = 10·u
                }
                else if ((l, h) == B)
                {
                    wv.narrow(0, r0, 1).copy_(u.unsqueeze(0));             // z_0 = ⟨LN1(x), u⟩ (u is zero-sum: centring cancels)
                    wo.narrow(1, r0, 1).copy_(vB.unsqueeze(1) * 3);        // o_B = 3·z_0·v_B
                }
                else
                {
                    wq.narrow(0, r0, HeadDim).copy_(Randn(HeadDim, Width) / Math.Sqrt(Width));
                    wk.narrow(0, r0, HeadDim).copy_(Randn(HeadDim, Width) / Math.Sqrt(Width));
                    wv.narrow(0, r0, HeadDim).copy_(Randn(HeadDim, Width) / Math.Sqrt(Width));
                    wo.narrow(1, r0, HeadDim).narrow(0, Blind, visible).copy_(Randn(visible, HeadDim) * othersScale);
                }
            }
        }
        // The read-out LayerNorm is blind on coordinates 0 … 7 (γ = 0; β = 0 everywhere from Zeroed).
        HandBuiltClip.Param(vit, "vision_model.post_layernorm.weight").narrow(0, 0, Blind).zero_();
        HandBuiltClip.Param(vit, "visual_projection.weight").copy_(Randn(24, Width) / Math.Sqrt(Width));
        return vit;
    }
}
