namespace DiffusionSteeringLens.Experiments;

/// <summary>Scores of one lens read-out.</summary>
/// <param name="Lens">Lens name (<c>DL</c> or <c>DSL</c>).</param>
/// <param name="Target">Target label, e.g. <c>resid_post:3</c> or <c>L2H1</c>.</param>
/// <param name="Layer">Layer of the target.</param>
/// <param name="EmbeddingSimilarity">Cosine between the read-out and the clean image embedding (mean over the batch).</param>
/// <param name="ImageSimilarity">Similarity of the decoded picture to the input picture; null when nothing was decoded.</param>
public sealed record TargetReadout(string Lens, string Target, int Layer, double EmbeddingSimilarity, double? ImageSimilarity);
