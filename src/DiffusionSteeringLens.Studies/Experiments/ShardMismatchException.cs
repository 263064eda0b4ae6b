namespace DiffusionSteeringLens.Experiments;

/// <summary>Validation shards that cannot be merged: another model, other settings or images, overlapping or missing shards.</summary>
public sealed class ShardMismatchException : Exception
{
    /// <summary>Creates the exception with a message naming the shards and what differs.</summary>
    public ShardMismatchException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public ShardMismatchException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with a generic message.</summary>
    public ShardMismatchException() : base("validation shards do not fit together.") { }
}
