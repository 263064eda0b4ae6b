using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Tests.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Analysis;

/// <summary>
/// The golden CLIP model with planted weights: one head writes a fixed, known direction d into every token's residual
/// (its values are a constant vector u — zero value weights, bias u — and its out-projection slice maps u to d), while every
/// other head's out-projection slice is scaled to ~nothing.
/// </summary>
internal static class PlantedHeadModel
{
    /// <summary>
    /// Plants several heads that write the same fixed direction (scale <paramref name="directionScale"/> each; a
    /// redundant set) and shrinks every other head's out-projection by <paramref name="othersScale"/>.
    /// </summary>
    public static ClipVisionModelWithProjection BuildShared(IReadOnlyList<(int Layer, int Head)> planted, double directionScale, int seed, double othersScale = 1e-3)
    {
        var vit = GoldenClip.Load();
        var arch = vit.Architecture;
        int d = arch.HeadDim;
        var sd = vit.state_dict();
        using var g = new torch.Generator((ulong)seed);
        using var _ = torch.no_grad();
        using var u = torch.randn(new long[] { d }, generator: g);
        using var dir = torch.randn(new long[] { arch.ModelDim }, generator: g);
        using var direction = dir / dir.norm() * directionScale;
        for (int l = 0; l < arch.NumLayers; l++)
        {
            var p = $"vision_model.encoder.layers.{l}.self_attn.";
            for (int h = 0; h < arch.NumHeads; h++)
            {
                if (!planted.Contains((l, h)))
                {
                    using var slice = sd[p + "out_proj.weight"].narrow(1, h * d, d);
                    slice.mul_(othersScale);
                    continue;
                }
                using (var vw = sd[p + "v_proj.weight"].narrow(0, h * d, d)) vw.zero_();
                using (var vb = sd[p + "v_proj.bias"].narrow(0, h * d, d)) vb.copy_(u);
                using (var woSlice = sd[p + "out_proj.weight"].narrow(1, h * d, d))
                using (var outer = torch.outer(direction, u) / u.dot(u))
                    woSlice.copy_(outer);
            }
        }
        return vit;
    }

    public static ClipVisionModelWithProjection Build(int plantedLayer, int plantedHead, double directionScale, int seed, double othersScale = 1e-3)
    {
        var vit = GoldenClip.Load();
        var arch = vit.Architecture;
        int d = arch.HeadDim;
        var sd = vit.state_dict();
        using var g = new torch.Generator((ulong)seed);
        using var _ = torch.no_grad();
        for (int l = 0; l < arch.NumLayers; l++)
        {
            var wo = sd[$"vision_model.encoder.layers.{l}.self_attn.out_proj.weight"];
            for (int h = 0; h < arch.NumHeads; h++)
            {
                if (l == plantedLayer && h == plantedHead) continue;
                using var slice = wo.narrow(1, h * d, d);
                slice.mul_(othersScale);
            }
        }
        var p = $"vision_model.encoder.layers.{plantedLayer}.self_attn.";
        using var u = torch.randn(new long[] { d }, generator: g);
        using var dir = torch.randn(new long[] { arch.ModelDim }, generator: g);
        using var direction = dir / dir.norm() * directionScale;
        using (var vw = sd[p + "v_proj.weight"].narrow(0, plantedHead * d, d)) vw.zero_();
        using (var vb = sd[p + "v_proj.bias"].narrow(0, plantedHead * d, d)) vb.copy_(u);
        using (var woSlice = sd[p + "out_proj.weight"].narrow(1, plantedHead * d, d))
        using (var outer = torch.outer(direction, u) / u.dot(u))
            woSlice.copy_(outer);
        return vit;
    }
}
