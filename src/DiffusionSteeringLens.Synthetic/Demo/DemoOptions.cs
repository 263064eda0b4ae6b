using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Synthetic;

/// <summary>Settings of <see cref="DemoPipeline"/>.</summary>
public sealed record DemoOptions
{
    /// <summary>DSL settings (steering function, scope, patching).</summary>
    public SteeringOptions Steering { get; init; } = new();

    /// <summary>
    /// Validation protocol settings (ablation kind, trajectories, permutations, bootstrap, seed). The demo's default
    /// scores trajectories over the first 4 ablations on 4 evaluation images to stay within its time budget.
    /// </summary>
    public ValidationSettings Validation { get; init; } = new() { TrajectorySteps = 4, TrajectoryImages = 4 };

    /// <summary>Heads with the highest DSL score whose DSL and DL pictures are decoded (every head is scored).</summary>
    public int ShownTopHeads { get; init; } = 8;

    /// <summary>Heads with the lowest DSL score whose DSL and DL pictures are decoded.</summary>
    public int ShownBottomHeads { get; init; } = 4;

    /// <summary>Evaluation images of the overlay study.</summary>
    public int OverlayImages { get; init; } = 8;

    /// <summary>Head subsets the overlay heads are compared with (exact enumeration when there are no more than this).</summary>
    public int OverlaySubsets { get; init; } = 500;

    /// <summary>Heads ablated by the overlay study; null = a quarter of all heads (at least 1).</summary>
    public int? OverlayTopK { get; init; }

    /// <summary>Run the overlay-removal study.</summary>
    public bool RunOverlay { get; init; } = true;
}
