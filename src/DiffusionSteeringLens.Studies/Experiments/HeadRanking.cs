using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>Scores of every head under DSL and DL-on-heads, with decoded pictures when decoding.</summary>
/// <param name="Rows">One row per head, in layer-major order (index = layer · heads + head).</param>
/// <param name="DslPictures">DSL pictures [L·H, 3, h, w] (owned) or null.</param>
/// <param name="DlPictures">DL-on-heads pictures [L·H, 3, h, w] (owned) or null.</param>
public sealed record HeadRanking(IReadOnlyList<HeadScoreRow> Rows, torch.Tensor? DslPictures, torch.Tensor? DlPictures) : IDisposable
{
    /// <summary>Rows ordered by DSL rank.</summary>
    public IEnumerable<HeadScoreRow> ByDslRank => Rows.OrderBy(r => r.DslRank);

    /// <summary>Disposes the pictures.</summary>
    public void Dispose()
    {
        DslPictures?.Dispose();
        DlPictures?.Dispose();
    }
}
