using TorchSharp;

namespace DiffusionSteeringLens.IO;

/// <summary>One tensor's header entry: name, dtype, shape and byte range relative to the data section.</summary>
/// <param name="Name">Tensor name (a state-dict key).</param>
/// <param name="DType">Safetensors dtype string, e.g. <c>F32</c>.</param>
/// <param name="ScalarType">The matching TorchSharp type.</param>
/// <param name="Shape">Shape; empty for a scalar.</param>
/// <param name="Begin">First byte (inclusive), relative to the end of the header.</param>
/// <param name="End">Last byte (exclusive), relative to the end of the header.</param>
public sealed record SafetensorsTensorInfo(string Name, string DType, torch.ScalarType ScalarType, long[] Shape, long Begin, long End)
{
    /// <summary>Number of elements.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Byte length of the data.</summary>
    public long ByteLength => End - Begin;

    /// <summary>Shape as text, e.g. <c>[32, 3, 4, 4]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
