namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// Shards of a validation or image-space study that cannot be merged: another model, other settings, images or decoder,
/// overlapping or missing shards.
/// </summary>
public sealed class ShardMismatchException : Exception
{
    /// <summary>Creates the exception with a message naming the shards and what differs.</summary>
    public ShardMismatchException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public ShardMismatchException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with a generic message.</summary>
    public ShardMismatchException() : base("study shards do not fit together.") { }
}
