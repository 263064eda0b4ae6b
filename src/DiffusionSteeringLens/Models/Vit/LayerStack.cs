using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit;

/// <summary>Runs an encoder's blocks in order, each in its own dispose scope.</summary>
/// <remarks>
/// Why: a forward runs inside one dispose scope (<c>HookedVitModel.Execute</c>), so without this every intermediate of
/// every block (q/k/v, scores, the float32 softmax copies, the MLP's hidden activations…) stayed alive until the whole
/// forward ended — about 48 MB per image and block at ViT-bigG/14, 2.3 GB per image over its 48 blocks. With a scope per
/// block only the residual stream between blocks outlives the block. Values are unchanged: this only frees earlier.
/// </remarks>
internal static class LayerStack
{
    /// <summary>x → blocks[0] → … → blocks[^1]; the caller keeps owning x, and owns the result as any forward's.</summary>
    public static Tensor Run<TBlock>(IEnumerable<TBlock> blocks, Tensor x) where TBlock : nn.Module<Tensor, Tensor>
    {
        bool ownsX = false; // the caller's input (or a tensor a hook handed back from elsewhere) is never disposed here
        foreach (var block in blocks)
        {
            Tensor next;
            bool ownsNext;
            using (var scope = NewDisposeScope())
            {
                next = block.call(x);
                // A hook may return a tensor that lives outside this block's scope (e.g. one it keeps): leave it alone.
                ownsNext = scope.Contains(next);
                if (ownsNext) next.MoveToOuterDisposeScope();
            }
            if (ownsX && !ReferenceEquals(x, next)) x.Dispose();
            x = next;
            ownsX = ownsNext;
        }
        return x;
    }
}
