using TorchSharp;

namespace DiffusionSteeringLens.IO;

/// <summary>Mapping between safetensors dtype strings and TorchSharp scalar types.</summary>
internal static class SafetensorsDType
{
    private static readonly (string Name, torch.ScalarType Type, int Size)[] Table =
    {
        ("F64", torch.ScalarType.Float64, 8), ("F32", torch.ScalarType.Float32, 4),
        ("F16", torch.ScalarType.Float16, 2), ("BF16", torch.ScalarType.BFloat16, 2),
        ("I64", torch.ScalarType.Int64, 8), ("I32", torch.ScalarType.Int32, 4),
        ("I16", torch.ScalarType.Int16, 2), ("I8", torch.ScalarType.Int8, 1),
        ("U8", torch.ScalarType.Byte, 1), ("BOOL", torch.ScalarType.Bool, 1),
    };

    /// <summary>The dtype strings this library reads and writes.</summary>
    public static IReadOnlyList<string> KnownNames { get; } = Table.Select(e => e.Name).ToArray();

    /// <summary>Parses a safetensors dtype string; false when unknown.</summary>
    public static bool TryParse(string name, out torch.ScalarType type, out int elementSize)
    {
        foreach (var e in Table)
            if (e.Name == name) { type = e.Type; elementSize = e.Size; return true; }
        type = default; elementSize = 0;
        return false;
    }

    /// <summary>The safetensors name of a TorchSharp scalar type.</summary>
    /// <exception cref="NotSupportedException">The type has no safetensors name here (e.g. complex).</exception>
    public static string NameOf(torch.ScalarType type)
    {
        foreach (var e in Table)
            if (e.Type == type) return e.Name;
        throw new NotSupportedException($"dtype {type} cannot be stored in safetensors by this library.");
    }

    /// <summary>Element size in bytes of a supported scalar type.</summary>
    public static int SizeOf(torch.ScalarType type)
    {
        foreach (var e in Table)
            if (e.Type == type) return e.Size;
        throw new NotSupportedException($"dtype {type} is not supported.");
    }

    /// <summary>True for floating-point types (between which loading converts freely).</summary>
    public static bool IsFloating(torch.ScalarType t) =>
        t is torch.ScalarType.Float64 or torch.ScalarType.Float32 or torch.ScalarType.Float16 or torch.ScalarType.BFloat16;
}
