using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Models.Vit;

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

    /// <summary>Overlay-removal study.</summary>
    public OverlayStudyResult? Overlay { get; init; }

    /// <summary>Plain-words verdict of the overlay study.</summary>
    public string? OverlayVerdict { get; init; }

    /// <summary>The image sets the studies ran on.</summary>
    public string? Images { get; init; }

    /// <summary>Wall time of each stage in seconds.</summary>
    public IReadOnlyDictionary<string, double>? TimingsSeconds { get; init; }
}
