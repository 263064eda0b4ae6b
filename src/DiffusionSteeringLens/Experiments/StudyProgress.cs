namespace DiffusionSteeringLens.Experiments;

/// <summary>Progress of one stage of an experiment.</summary>
/// <param name="Stage">Stage name, e.g. <c>decode dl-layers</c>.</param>
/// <param name="Completed">Units finished.</param>
/// <param name="Total">Units in the stage.</param>
public sealed record StudyProgress(string Stage, int Completed, int Total);
