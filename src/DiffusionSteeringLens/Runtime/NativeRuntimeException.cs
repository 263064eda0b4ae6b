namespace DiffusionSteeringLens.Runtime;

/// <summary>The libtorch native runtime could not be loaded; the message says which file failed and why.</summary>
public sealed class NativeRuntimeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NativeRuntimeException(string message, Exception? inner = null) : base(message, inner) { }
}
