using TorchSharp;

namespace DiffusionSteeringLens.IO;

/// <summary>One tensor of a safetensors file to be written: name, dtype and shape.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Shape.</param>
internal sealed record SafetensorsEntry(string Name, torch.ScalarType DType, long[] Shape);
