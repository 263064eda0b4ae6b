using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Analysis;

/// <summary>
/// Four planted overlay heads (<see cref="HandBuiltClip"/>, hidden 64, 2 layers × 4 heads): head h_k's query is a
/// constant (query bias only) and its key reads a position code that only corner patch k carries, so every token
/// attends (almost) only to that patch; its value reads the patch's "redness" (R − (G + B)/2, written into one residual
/// coordinate by the patch embedding) plus a constant, and its out-projection writes the redness along its own overlay
/// direction w_k and the constant along its own direction g_k. Overlay k is a red square exactly covering corner patch
/// k, so only h_k sees it. The other four heads are small random heads that write into coordinates of their own.
/// Every key, value and query read is zero-sum over the residual, so the LayerNorms' centring cannot leak into it.
/// </summary>
internal static class PlantedOverlayModel
{
    /// <summary>The planted head of overlay k (k = 0 … 3): two in each layer.</summary>
    public static readonly (int Layer, int Head)[] Heads = { (0, 0), (0, 2), (1, 1), (1, 3) };

    private const int Width = 64, HeadDim = 16, Patch = 4, Grid = 4;
    private const int CornerCode = 0;   // dims 0..3: position code of corner k
    private const int ClsCode = 4;
    private const int Zero = 5;         // never written: the zero-sum partner of every read
    private const int PatchCode = 6;    // every patch token
    private const int Redness = 8;
    private const int Generic = 16;     // dims 16..19: g_k
    private const int OverlayDir = 20;  // dims 20..23: w_k
    private const int Junk = 40;        // dims 40..63: the small heads' writes

    /// <summary>Top-left pixel (row, column) of corner patch k.</summary>
    public static (int Row, int Col) Corner(int k) => (k / 2 * (Grid - 1) * Patch, k % 2 * (Grid - 1) * Patch);

    public static ClipVisionModelWithProjection Build(int seed, double junkScale = 0.05)
    {
        var vit = HandBuiltClip.Zeroed(HandBuiltClip.Config(Width, Width));
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope(); // temporaries and views only: the parameters were created before it
        using var g = new torch.Generator((ulong)seed);
        const float code = 10f, query = 30f, valueBias = 1f, writeOverlay = 3f, writeGeneric = 2f;

        // Patch embedding: redness = mean over the patch of R − (G + B)/2 (normalised pixels).
        var conv = HandBuiltClip.Param(vit, "vision_model.embeddings.patch_embedding.weight"); // [D, 3, p, p]
        float perPixel = 1f / (Patch * Patch);
        using (var c = conv[Redness, 0]) c.fill_(perPixel);
        using (var c = conv[Redness, 1]) c.fill_(-0.5f * perPixel);
        using (var c = conv[Redness, 2]) c.fill_(-0.5f * perPixel);
        var pos = HandBuiltClip.Param(vit, "vision_model.embeddings.position_embedding.weight"); // [17, D]
        HandBuiltClip.Set(pos, 0, ClsCode, code);
        for (int t = 1; t <= Grid * Grid; t++) HandBuiltClip.Set(pos, t, PatchCode, code);
        for (int k = 0; k < 4; k++)
        {
            var (row, col) = Corner(k);
            HandBuiltClip.Set(pos, 1 + row / Patch * Grid + col / Patch, CornerCode + k, code);
        }

        for (int l = 0; l < 2; l++)
        {
            var p = HandBuiltClip.Attn(l);
            var wq = HandBuiltClip.Param(vit, p + "q_proj.weight");
            var wk = HandBuiltClip.Param(vit, p + "k_proj.weight");
            var wv = HandBuiltClip.Param(vit, p + "v_proj.weight");
            var bq = HandBuiltClip.Param(vit, p + "q_proj.bias");
            var bv = HandBuiltClip.Param(vit, p + "v_proj.bias");
            var wo = HandBuiltClip.Param(vit, p + "out_proj.weight");
            for (int h = 0; h < 4; h++)
            {
                int r0 = h * HeadDim;
                int k = Array.IndexOf(Heads, (l, h));
                if (k < 0)
                {
                    // A small random head: reads anything, writes into the junk coordinates only.
                    using (var rows = wq.narrow(0, r0, HeadDim)) rows.copy_(torch.randn(new long[] { HeadDim, Width }, generator: g) / Math.Sqrt(Width));
                    using (var rows = wk.narrow(0, r0, HeadDim)) rows.copy_(torch.randn(new long[] { HeadDim, Width }, generator: g) / Math.Sqrt(Width));
                    using (var rows = wv.narrow(0, r0, HeadDim)) rows.copy_(torch.randn(new long[] { HeadDim, Width }, generator: g) / Math.Sqrt(Width));
                    using (var cols = wo.narrow(1, r0, HeadDim).narrow(0, Junk, Width - Junk))
                        cols.copy_(torch.randn(new long[] { Width - Junk, HeadDim }, generator: g) * junkScale);
                    continue;
                }
                HandBuiltClip.Set(bq, r0, query);
                HandBuiltClip.Set(wk, r0, CornerCode + k, 1f);
                HandBuiltClip.Set(wk, r0, Zero, -1f);
                HandBuiltClip.Set(wv, r0, Redness, 1f);
                HandBuiltClip.Set(wv, r0, Zero, -1f);
                HandBuiltClip.Set(bv, r0 + 1, valueBias);
                HandBuiltClip.Set(wo, OverlayDir + k, r0, writeOverlay);
                HandBuiltClip.Set(wo, Generic + k, r0 + 1, writeGeneric);
            }
        }
        HandBuiltClip.Param(vit, "visual_projection.weight").copy_(torch.eye(Width));
        return vit;
    }

    /// <summary>Base pictures [B, 3, 16, 16]: uniform noise in [0, 1] (seeded).</summary>
    public static torch.Tensor BasePictures(int count, int seed)
    {
        using var g = new torch.Generator((ulong)seed);
        return torch.rand(new long[] { count, 3, 16, 16 }, generator: g);
    }

    /// <summary>Base and overlaid pixels for the overlays <paramref name="overlays"/> (red squares on their corner patches).</summary>
    public static OverlayPair Pair(torch.Tensor basePictures, IEnumerable<int> overlays)
    {
        using var mask = torch.zeros(16, 16);
        foreach (var k in overlays)
        {
            var (row, col) = Corner(k);
            using var square = mask.narrow(0, row, Patch).narrow(1, col, Patch);
            square.fill_(1);
        }
        using var red = torch.zeros(3, 16, 16);
        using (var r = red[0]) r.fill_(1);
        using var overlaid = OverlayStudy.Compose(basePictures, red, mask);
        return new OverlayPair(Normalise(basePictures), Normalise(overlaid));
    }

    /// <summary>This model's own preprocessing: (x − 0.5) / 0.25 on every channel.</summary>
    private static torch.Tensor Normalise(torch.Tensor pictures) => (pictures - 0.5) / 0.25;
}
