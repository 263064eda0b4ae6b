namespace DiffusionSteeringLens.Decoding;

/// <summary>Embeddings passed to a decoder have the wrong rank, width or batch size; the message names the shape.</summary>
public sealed class EmbeddingShapeException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="parameterName">The offending argument.</param>
    /// <param name="actualShape">Its shape.</param>
    /// <param name="expected">What was expected, in words (e.g. "[B, 1280]").</param>
    public EmbeddingShapeException(string parameterName, long[] actualShape, string expected)
        : base($"{parameterName} has shape [{string.Join(", ", actualShape)}]; expected {expected}.", parameterName)
    {
        ActualShape = actualShape;
    }

    /// <summary>The shape that was passed.</summary>
    public IReadOnlyList<long> ActualShape { get; }
}
