using TorchSharp;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary>
/// A deterministic stand-in decoder: picture = sigmoid(embedding · W) reshaped to [3, S, S] with a fixed random W. Each
/// picture depends only on its own embedding (like the CLI's shared-seed decoding); counts what it renders.
/// </summary>
internal sealed class FakeRenderer(int embeddingDim, int size = 16)
{
    private readonly float[] _weights = MakeWeights(embeddingDim, size);

    public int Calls { get; private set; }

    /// <summary>When set, every render throws it (internal-error tests).</summary>
    public Exception? FailWith { get; init; }

    public int Rendered { get; private set; }

    public torch.Tensor Render(torch.Tensor embeddings, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (FailWith is not null) throw FailWith;
        Calls++;
        Rendered += (int)embeddings.shape[0];
        using var scope = torch.NewDisposeScope();
        var w = torch.tensor(_weights).view(embeddingDim, 3 * size * size);
        var e = torch.nn.functional.normalize(embeddings.to(torch.float32).cpu(), dim: -1);
        return torch.sigmoid(torch.matmul(e, w) * 3).view(-1, 3, size, size).MoveToOuterDisposeScope();
    }

    private static float[] MakeWeights(int p, int size)
    {
        var rng = new Random(1234);
        return Enumerable.Range(0, p * 3 * size * size).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }
}
