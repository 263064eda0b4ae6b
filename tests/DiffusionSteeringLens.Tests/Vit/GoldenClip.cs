using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Vit;

/// <summary>Loads the tiny golden CLIP vision model and its inputs.</summary>
internal static class GoldenClip
{
    public static string Folder => Fixtures.Golden("clip_vision");

    public static ClipVisionModelWithProjection Load(string? folder = null) =>
        ClipVisionModelWithProjection.FromPretrained(folder ?? Folder);

    /// <summary>The golden batch input [2, 3, 16, 16].</summary>
    public static torch.Tensor Pixels()
    {
        using var f = SafetensorsFile.Open(Path.Combine(Folder, "cases.safetensors"));
        return f.Load("pixel_values");
    }

    /// <summary>Deterministic random pixels [b, 3, 16, 16].</summary>
    public static torch.Tensor RandomPixels(int b, int seed)
    {
        using var g = new torch.Generator((ulong)seed);
        return torch.randn(new long[] { b, 3, 16, 16 }, generator: g);
    }
}
