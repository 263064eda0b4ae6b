using DiffusionSteeringLens.Models.Kandinsky.MoVq;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using TorchSharp;

namespace DiffusionSteeringLens.IO;

/// <summary>Which model folder <see cref="RandomCheckpoint"/> writes.</summary>
public enum RandomCheckpointKind
{
    /// <summary>CLIPVisionModelWithProjection (<c>model.safetensors</c>, float16 like the released Kandinsky 2.2 encoder).</summary>
    ImageEncoder,
    /// <summary>UNet2DConditionModel (<c>diffusion_pytorch_model.safetensors</c>, float32).</summary>
    Unet,
    /// <summary>MoVQ VQModel (<c>diffusion_pytorch_model.safetensors</c>, float32).</summary>
    MoVq,
}

/// <summary>
/// Random-init model folders in the exact Hugging Face layout (config.json and weights with the real key names and
/// shapes) from a real config, so full-size benchmarks and scale checks run without downloads. Public because
/// reproducing the scale numbers is part of the library's promise (<c>dsl make-random</c>, benchmarks).
/// </summary>
/// <remarks>
/// Values: 1-D weights (every norm's scale in these models) are 1, biases 0, everything else N(0, 0.02²) from one seeded
/// generator, in checkpoint order — the same seed writes the same bytes. Tensors are produced and written one at a time.
/// </remarks>
public static class RandomCheckpoint
{
    /// <summary>The weights file name of a kind.</summary>
    public static string WeightsFileName(RandomCheckpointKind kind) =>
        kind == RandomCheckpointKind.ImageEncoder ? "model.safetensors" : "diffusion_pytorch_model.safetensors";

    /// <summary>Names, dtypes and shapes of the checkpoint, from the model built on the meta device (nothing allocated).</summary>
    /// <exception cref="ConfigException">A bad or unsupported config value.</exception>
    internal static IReadOnlyList<SafetensorsEntry> Layout(RandomCheckpointKind kind, string configPath)
    {
        torch.nn.Module model = kind switch
        {
            RandomCheckpointKind.ImageEncoder => new ClipVisionModelWithProjection(ClipVisionConfig.Load(configPath), torch.META, torch.ScalarType.Float16),
            RandomCheckpointKind.Unet => new UNet2DConditionModel(UNet2DConditionConfig.Load(configPath), torch.META, torch.ScalarType.Float32),
            _ => new VqModel(VqModelConfig.Load(configPath), torch.META, torch.ScalarType.Float32),
        };
        using (model)
            return model.state_dict().Select(kv => new SafetensorsEntry(kv.Key, kv.Value.dtype, kv.Value.shape)).ToArray();
    }

    /// <summary>
    /// Writes <c>config.json</c> (a copy of <paramref name="configPath"/>) and the random weights into <paramref name="folder"/>.
    /// </summary>
    /// <returns>The number of tensors written and the weights' size in bytes.</returns>
    /// <exception cref="ConfigException">A bad or unsupported config value.</exception>
    /// <exception cref="FileNotFoundException">No config file.</exception>
    public static (int Tensors, long Bytes) Write(RandomCheckpointKind kind, string configPath, string folder, long seed = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(configPath);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"config not found: {Path.GetFullPath(configPath)}");
        var layout = Layout(kind, configPath);
        Directory.CreateDirectory(folder);
        File.Copy(configPath, Path.Combine(folder, "config.json"), overwrite: true);
        using var generator = new torch.Generator((ulong)seed);
        SafetensorsWriter.Write(Path.Combine(folder, WeightsFileName(kind)), layout, i =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            var e = layout[i];
            using var scope = torch.NewDisposeScope();
            var t = e.Name.EndsWith(".bias", StringComparison.Ordinal) ? torch.zeros(e.Shape)
                : e.Shape.Length == 1 && e.Name.EndsWith(".weight", StringComparison.Ordinal) ? torch.ones(e.Shape)
                : torch.randn(e.Shape, generator: generator).mul_(0.02);
            return t.to(e.DType).MoveToOuterDisposeScope();
        });
        return (layout.Count, layout.Sum(e => e.Shape.Aggregate(1L, (a, d) => a * d) * SafetensorsDType.SizeOf(e.DType)));
    }
}
