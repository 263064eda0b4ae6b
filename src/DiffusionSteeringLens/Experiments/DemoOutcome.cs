namespace DiffusionSteeringLens.Experiments;

/// <summary>What <see cref="DemoPipeline.Run"/> produced: the result records and the pictures for grids and reports.</summary>
public sealed class DemoOutcome : IDisposable
{
    internal DemoOutcome(StudyResults results, ReadoutSweep layerSweep, HeadRanking ranking, OverlayOutcome? overlay)
    {
        Results = results;
        LayerSweep = layerSweep;
        Ranking = ranking;
        Overlay = overlay;
    }

    /// <summary>Every score.</summary>
    public StudyResults Results { get; }

    /// <summary>DL layer sweep (pictures when decoding).</summary>
    public ReadoutSweep LayerSweep { get; }

    /// <summary>Head scores (pictures when decoding); rows carry importance.</summary>
    public HeadRanking Ranking { get; }

    /// <summary>Overlay study (pictures when decoding), or null when skipped.</summary>
    public OverlayOutcome? Overlay { get; }

    /// <summary>Disposes the pictures.</summary>
    public void Dispose()
    {
        LayerSweep.Dispose();
        Ranking.Dispose();
        Overlay?.Dispose();
    }
}
