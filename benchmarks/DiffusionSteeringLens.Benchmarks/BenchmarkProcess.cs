using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Runtime;
using TorchSharp;

namespace DiffusionSteeringLens.Benchmarks;

/// <summary>What every suite's setup does first: BenchmarkDotNet runs each benchmark in its own generated process.</summary>
internal static class BenchmarkProcess
{
    /// <summary>Loads libtorch, keeps freed memory for reuse as the dsl tool does, uses every core, seeds the global generator with 0.</summary>
    public static void InitTorch()
    {
        TorchNativeLoader.EnsureLoaded();
        TorchNativeLoader.EnableMemoryReuse();
        torch.set_num_threads(Environment.ProcessorCount);
        torch.manual_seed(0);
    }

    /// <summary>
    /// A CLIP vision config by size name: "b16" is ViT-B/16 (12 layers × 12 heads, hidden 768, 224 px), "small" the
    /// shipped shapes32 architecture (4 × 4, hidden 96, 32 px). Random weights: the cost does not depend on them.
    /// </summary>
    public static ClipVisionConfig ClipConfig(string size) => size switch
    {
        "b16" => new ClipVisionConfig { HiddenSize = 768, IntermediateSize = 3072, NumHiddenLayers = 12, NumAttentionHeads = 12, ImageSize = 224, PatchSize = 16, ProjectionDim = 512, HiddenAct = "gelu" },
        "small" => new ClipVisionConfig { HiddenSize = 96, IntermediateSize = 384, NumHiddenLayers = 4, NumAttentionHeads = 4, ImageSize = 32, PatchSize = 4, ProjectionDim = 32, HiddenAct = "gelu" },
        _ => throw new ArgumentException($"unknown size '{size}' (b16, small).", nameof(size)),
    };
}
