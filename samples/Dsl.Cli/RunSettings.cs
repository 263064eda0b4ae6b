using DiffusionSteeringLens.Lenses;
using TorchSharp;

namespace DiffusionSteeringLens.Cli;

/// <summary>Parsed common options of an experiment command.</summary>
internal sealed record RunSettings
{
    public string? Encoder { get; init; }
    public string? Decoder { get; init; }
    public bool NoDecode { get; init; }
    public string? Image { get; init; }
    public string? Pixels { get; init; }
    public string Out { get; init; } = "dsl-output";
    public long Seed { get; init; }
    public int Steps { get; init; } = 25;
    public double Guidance { get; init; } = 4.0;
    public int? Size { get; init; }
    public int BatchSize { get; init; } = 4;
    /// <summary>Pictures denoised together (<c>KandinskyDecodeOptions.PicturesPerBatch</c>); 1 = each alone, bit-reproducible.</summary>
    public int DenoiseBatch { get; init; } = 1;
    public torch.Device Device { get; init; } = torch.CPU;
    public torch.ScalarType DType { get; init; } = torch.ScalarType.Float32;
    public bool Verbose { get; init; }
    public bool Resume { get; init; }
    public SteeringFunction Steering { get; init; } = SteeringFunction.Default;
    public int TopK { get; init; } = 8;
    public int Threads { get; init; } = 2;

    /// <summary>Command-specific settings recorded with the run (e.g. the demo's model and budget), by name.</summary>
    public IReadOnlyDictionary<string, string> CommandSettings { get; init; } = new Dictionary<string, string>();
}
