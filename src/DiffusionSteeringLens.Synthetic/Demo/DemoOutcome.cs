using DiffusionSteeringLens.Experiments;
namespace DiffusionSteeringLens.Synthetic;

/// <summary>What <see cref="DemoPipeline.Run"/> produced: the result records and the pictures for grids and reports.</summary>
public sealed class DemoOutcome : IDisposable
{
    internal DemoOutcome(StudyResults results, ReadoutSweep layerSweep, HeadRanking ranking, IReadOnlyList<HeadScoreRow> shownHeads,
        ReadoutSweep? shownDsl, ReadoutSweep? shownDl, OverlayOutcome? overlay)
    {
        Results = results;
        LayerSweep = layerSweep;
        Ranking = ranking;
        ShownHeads = shownHeads;
        ShownDsl = shownDsl;
        ShownDl = shownDl;
        Overlay = overlay;
    }

    /// <summary>Every score.</summary>
    public StudyResults Results { get; }

    /// <summary>DL layer sweep (pictures when decoding).</summary>
    public ReadoutSweep LayerSweep { get; }

    /// <summary>Embedding-space scores of every head (no pictures: only <see cref="ShownHeads"/> are decoded).</summary>
    public HeadRanking Ranking { get; }

    /// <summary>The heads the grid shows (DSL's top and bottom), in DSL rank order.</summary>
    public IReadOnlyList<HeadScoreRow> ShownHeads { get; }

    /// <summary>DSL read-outs of <see cref="ShownHeads"/> with their pictures and image scores; null without decoding.</summary>
    public ReadoutSweep? ShownDsl { get; }

    /// <summary>DL-on-heads read-outs of <see cref="ShownHeads"/>; null without decoding.</summary>
    public ReadoutSweep? ShownDl { get; }

    /// <summary>Overlay study (pictures when decoding), or null when skipped.</summary>
    public OverlayOutcome? Overlay { get; }

    /// <summary>Disposes the pictures.</summary>
    public void Dispose()
    {
        LayerSweep.Dispose();
        Ranking.Dispose();
        ShownDsl?.Dispose();
        ShownDl?.Dispose();
        Overlay?.Dispose();
    }
}
