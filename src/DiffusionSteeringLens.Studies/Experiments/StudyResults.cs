using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Models.Vit;
using DiffusionSteeringLens.Reports;

namespace DiffusionSteeringLens.Experiments;

/// <summary>Every score an experiment run produced (what <c>results.json</c> holds); absent parts are null.</summary>
public sealed record StudyResults
{
    /// <summary>The command or pipeline that produced the results.</summary>
    public required string Command { get; init; }

    /// <summary>Encoder location.</summary>
    public string? Encoder { get; init; }

    /// <summary>Decoder location; null when nothing was decoded.</summary>
    public string? Decoder { get; init; }

    /// <summary>Input description (file or built-in image).</summary>
    public string? Input { get; init; }

    /// <summary>Steering function used by DSL.</summary>
    public string? Steering { get; init; }

    /// <summary>Shape facts of the encoder.</summary>
    public VitArchitecture? Architecture { get; init; }

    /// <summary>Decode settings (steps, guidance, size, seed) when decoding.</summary>
    public string? DecodeSettings { get; init; }

    /// <summary>DL layer sweep.</summary>
    public IReadOnlyList<TargetReadout>? LayerSweep { get; init; }

    /// <summary>Read-outs of explicitly chosen targets (DSL and DL).</summary>
    public IReadOnlyList<TargetReadout>? Targets { get; init; }

    /// <summary>Scores of every head.</summary>
    public IReadOnlyList<HeadScoreRow>? Heads { get; init; }

    /// <summary>Heads ranked over the evaluation images of an image set (<c>rank --images</c> / <c>--synthetic</c>).</summary>
    public ImageSetRanking? ImageRanking { get; init; }

    /// <summary>Importance correlation and trajectories.</summary>
    public ValidationResult? Validation { get; init; }

    /// <summary>Importance correlation of decoded-picture scores (several decoder seeds).</summary>
    public ImageSpaceValidationResult? ImageSpace { get; init; }

    /// <summary>Per-image validation measurements of one shard (<c>validate --shard i/n</c>), combined by <c>dsl merge</c>.</summary>
    public ValidationMeasurements? ValidationShard { get; init; }

    /// <summary>
    /// Per-image picture-space measurements of one shard (<c>image-scores --shard i/n</c>), combined by <c>dsl merge</c>
    /// into <see cref="ImageSpace"/>.
    /// </summary>
    public ImageSpaceMeasurements? ImageSpaceShard { get; init; }

    /// <summary>Per-image scores of one shard of an image-set ranking (<c>rank --shard i/n</c>), combined by <c>dsl merge</c> into <see cref="ImageRanking"/>.</summary>
    public RankMeasurements? ImageRankingShard { get; init; }

    /// <summary>Per-image values of one shard of the overlay study (<c>overlay --shard i/n</c>), combined by <c>dsl merge</c> into <see cref="Overlay"/>.</summary>
    public OverlayMeasurements? OverlayShard { get; init; }

    /// <summary>Overlay-removal study.</summary>
    public OverlayStudyResult? Overlay { get; init; }

    /// <summary>Plain-words verdict of the overlay study.</summary>
    public string? OverlayVerdict { get; init; }

    /// <summary>The image sets the studies ran on.</summary>
    public string? Images { get; init; }

    /// <summary>Wall time of each stage in seconds.</summary>
    public IReadOnlyDictionary<string, double>? TimingsSeconds { get; init; }

    /// <summary>Writes every score as one long-format CSV row (section, item, metric, value), atomically.</summary>
    /// <param name="path">Destination file (results.csv).</param>
    public void WriteCsv(string path) => ScoreTable.WriteCsv(path, this);

    /// <summary>
    /// Writes the self-contained HTML report (summary, figures, layer curve, L×H score grids, score-vs-importance scatter,
    /// trajectories, overlay study, top-head table), atomically; parts whose results are absent are left out.
    /// </summary>
    /// <param name="path">Destination file (report.html).</param>
    /// <param name="figures">PNG pictures (e.g. labelled grids) with their captions, inlined in order.</param>
    /// <param name="topK">Rows of the top-heads table (every head is in the layer × head grids regardless).</param>
    /// <param name="provenance">Rows that make the run citable (library version, command line, settings), added to the Run table.</param>
    public void WriteReport(string path, IReadOnlyList<(string Caption, byte[] Png)> figures, int topK = 10,
        IReadOnlyList<KeyValuePair<string, string>>? provenance = null)
    {
        ArgumentNullException.ThrowIfNull(figures);
        StudyReport.Build(this, figures.Select(f => new ReportFigure(f.Caption, f.Png)).ToList(), topK, provenance).Save(path);
    }
}
