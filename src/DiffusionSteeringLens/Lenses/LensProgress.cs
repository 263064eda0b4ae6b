namespace DiffusionSteeringLens.Lenses;

/// <summary>Progress of a lens computation, a rendering or one stage of a study built on lenses.</summary>
/// <param name="Stage">What is running (e.g. <c>forward</c>, <c>steered runs</c>, <c>decode dl-layers</c>).</param>
/// <param name="Completed">Units done.</param>
/// <param name="Total">Units in all.</param>
public sealed record LensProgress(string Stage, int Completed, int Total);
