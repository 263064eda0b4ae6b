using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Experiments;

/// <summary>Settings of <see cref="DemoPipeline"/>.</summary>
public sealed record DemoOptions
{
    /// <summary>DSL settings (steering function, scope, patching).</summary>
    public SteeringOptions Steering { get; init; } = new();

    /// <summary>Heads ablated along each trajectory; null = every head, at most 32 (the greedy order costs about steps × heads forwards).</summary>
    public int? TrajectorySteps { get; init; }

    /// <summary>Seeds of the random-order trajectories and random-k overlay baselines.</summary>
    public IReadOnlyList<int> RandomSeeds { get; init; } = new[] { 1, 2, 3 };

    /// <summary>Permutations of the correlation p-value.</summary>
    public int Permutations { get; init; } = 1000;

    /// <summary>Heads ablated by the overlay study; null = a quarter of all heads (at least 1).</summary>
    public int? OverlayTopK { get; init; }

    /// <summary>Run the overlay-removal study.</summary>
    public bool RunOverlay { get; init; } = true;
}
