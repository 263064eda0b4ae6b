using TorchSharp;

namespace DiffusionSteeringLens.Analysis;

/// <summary>Cosine similarity in the encoder's output space — the fast, decode-free score (reported apart from image scores).</summary>
public static class EmbeddingSimilarity
{
    /// <summary>Cosine along the last axis; shapes broadcast (e.g. [B, N, P] against [B, 1, P]). Returns a float64 tensor.</summary>
    public static torch.Tensor Cosine(torch.Tensor a, torch.Tensor b)
    {
        using var scope = torch.NewDisposeScope();
        var a64 = a.to(torch.float64);
        var b64 = b.to(torch.float64).to(a.device);
        var num = (a64 * b64).sum(-1);
        var den = (a64.norm(-1) * b64.norm(-1)).clamp_min(1e-30);
        return (num / den).MoveToOuterDisposeScope();
    }

    /// <summary>Cosine of each row of [N, P] against one [P] or [N, P]; as an array.</summary>
    public static double[] CosineRows(torch.Tensor a, torch.Tensor b)
    {
        using var c = Cosine(a, b);
        using var cpu = c.cpu();
        return cpu.data<double>().ToArray();
    }
}
