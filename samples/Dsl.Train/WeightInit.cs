using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>Explicit initialisation (the CLIP model is built uninitialised; norms must start at 1/0).</summary>
internal static class WeightInit
{
    /// <summary>HF CLIP-like: norms 1/0, matrices and embeddings N(0, 0.02), biases 0.</summary>
    public static void InitClip(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            if (name.Contains("norm", StringComparison.Ordinal)) { if (name.EndsWith("weight", StringComparison.Ordinal)) p.fill_(1); else p.zero_(); }
            else if (name.EndsWith("bias", StringComparison.Ordinal)) p.zero_();
            else p.normal_(0, 0.02);
        }
    }

    /// <summary>Keeps libtorch's default conv/linear init (as PyTorch/diffusers) and forces every norm to 1/0.</summary>
    public static void InitUNetNorms(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
            if (name.Contains("norm", StringComparison.Ordinal))
            {
                if (name.EndsWith("weight", StringComparison.Ordinal)) p.fill_(1); else p.zero_();
            }
    }
}
