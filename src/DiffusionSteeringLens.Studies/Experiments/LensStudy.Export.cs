using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

public static partial class LensStudy
{
    /// <summary>
    /// All lens read-outs of a batch as named float32 tensors (what <c>dsl export</c> writes to safetensors):
    /// <c>image_embeds</c> [B, P]; <c>dl.resid_post</c> [B, L, P]; <c>dl.heads</c> [B, L, H, P] (each head's result read out
    /// alone); <c>dsl.heads</c> [B, L, H, P] and <c>dsl.mlps</c> [B, L, P] (DSL read-outs with the given steering).
    /// The caller owns (and disposes) the returned tensors.
    /// </summary>
    public static IReadOnlyDictionary<string, torch.Tensor> Export(IHookedVit encoder, torch.Tensor pixels, SteeringOptions steering,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        var arch = encoder.Architecture;
        long b = pixels.shape[0];
        using var scope = torch.NewDisposeScope();
        var dl = new DiffusionLens(encoder);
        var dsl = new SteeringLens(encoder, steering);
        var result = new Dictionary<string, torch.Tensor>(StringComparer.Ordinal)
        {
            ["image_embeds"] = encoder.Forward(pixels),
            ["dl.resid_post"] = dl.ComputeEmbeddings(pixels, LensTarget.LayerSweep(arch), null, cancellationToken),
            ["dl.heads"] = dl.ComputeEmbeddings(pixels, LensTarget.AllHeads(arch), null, cancellationToken).view(b, arch.NumLayers, arch.NumHeads, -1),
            ["dsl.heads"] = dsl.ComputeEmbeddings(pixels, LensTarget.AllHeads(arch), null, cancellationToken).view(b, arch.NumLayers, arch.NumHeads, -1),
            ["dsl.mlps"] = dsl.ComputeEmbeddings(pixels, LensTarget.AllMlps(arch), null, cancellationToken),
        };
        foreach (var key in result.Keys.ToArray())
            result[key] = result[key].to(torch.float32).cpu().contiguous().MoveToOuterDisposeScope();
        return result;
    }
}
