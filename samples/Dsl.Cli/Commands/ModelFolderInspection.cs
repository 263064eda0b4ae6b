using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Kandinsky.MoVq;
using DiffusionSteeringLens.Models.Kandinsky.Schedulers;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Models.Vit;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Models.Vit.Dinov2;
using DiffusionSteeringLens.Models.Vit.ViT;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>
/// Finds the model components of a folder for <c>dsl inspect</c>: the folder itself when it is one (an encoder, UNet,
/// MoVQ or scheduler folder), otherwise every component among its sub-folders and their sub-folders (a Kandinsky
/// decoder root holds <c>unet/</c>, <c>scheduler/</c> and optionally <c>movq/</c>; a model root holds <c>encoder/</c> and
/// <c>decoder/</c>).
/// </summary>
internal static class ModelFolderInspection
{
    private static readonly string[] WeightNames = { "model", "diffusion_pytorch_model" };

    private static readonly string[] Known = { HookedVitFamilies.ClipVision, HookedVitFamilies.Vit, HookedVitFamilies.Dinov2, "unet", "movq", "scheduler" };

    /// <summary>The components of <paramref name="folder"/>, sorted by path; empty when it holds none.</summary>
    public static IReadOnlyList<ModelComponent> Find(string folder)
    {
        var root = Path.GetFullPath(folder);
        if (TryComponent(root, root) is { } self) return new[] { self };
        var found = new List<ModelComponent>();
        foreach (var child in SubFolders(root))
        {
            if (TryComponent(root, child) is { } component) found.Add(component);
            else found.AddRange(SubFolders(child).Select(grandChild => TryComponent(root, grandChild)).OfType<ModelComponent>());
        }
        return found;
    }

    /// <summary>
    /// Relative paths of the Kandinsky decoder roots among <paramref name="components"/>: folders whose <c>unet</c> and
    /// <c>scheduler</c> sub-folders are both components (<c>.</c> when the inspected folder is one).
    /// </summary>
    public static IReadOnlyList<string> DecoderRoots(IReadOnlyList<ModelComponent> components)
    {
        string? Parent(ModelComponent c, string name) =>
            Path.GetFileName(c.RelativePath) == name ? (Path.GetDirectoryName(c.RelativePath) is { Length: > 0 } p ? p : ".") : null;
        var unets = components.Where(c => c.Family == "unet").Select(c => Parent(c, "unet")).OfType<string>();
        var schedulers = components.Where(c => c.Family == "scheduler").Select(c => Parent(c, "scheduler")).OfType<string>().ToHashSet(StringComparer.Ordinal);
        return unets.Where(schedulers.Contains).OrderBy(p => p, StringComparer.Ordinal).ToArray();
    }

    private static IEnumerable<string> SubFolders(string folder) =>
        Directory.GetDirectories(folder).OrderBy(d => d, StringComparer.Ordinal);

    // A folder is a component when it has a config (or weights) of a known family.
    private static ModelComponent? TryComponent(string root, string folder)
    {
        bool hasConfig = File.Exists(Path.Combine(folder, "config.json")) || File.Exists(Path.Combine(folder, "scheduler_config.json"));
        // The weight file names the loaders accept (transformers' and diffusers'), single or sharded.
        bool hasWeights = WeightNames.Any(n => File.Exists(Path.Combine(folder, n + ".safetensors")) || File.Exists(Path.Combine(folder, n + ".safetensors.index.json")));
        if (!hasConfig && !hasWeights) return null;
        var checkpoint = CheckpointSummary.Inspect(folder);
        if (!Known.Contains(checkpoint.Family)) return null;
        var relative = Path.GetRelativePath(root, folder).Replace('\\', '/');
        var dtypes = checkpoint.Tensors.Select(t => t.DType).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var dtype = dtypes.Length == 0 ? "no weights" : string.Join("+", dtypes);
        bool hasModelConfig = File.Exists(Path.Combine(folder, "config.json"));
        return new ModelComponent(relative, checkpoint.Family, hasModelConfig || checkpoint.Family == "scheduler" ? Describe(checkpoint.Family, folder) : "weights only (no config.json)", dtype, checkpoint);
    }

    private static string Describe(string family, string folder)
    {
        switch (family)
        {
            case HookedVitFamilies.ClipVision:
            {
                var c = ClipVisionConfig.Load(folder);
                return $"{c.NumHiddenLayers} layers × {c.NumAttentionHeads} heads, width {c.HiddenSize}, patch {c.PatchSize}, image {c.ImageSize}, projection {c.ProjectionDim}";
            }
            case HookedVitFamilies.Vit:
            {
                var c = VitConfig.Load(folder);
                return $"{c.NumHiddenLayers} layers × {c.NumAttentionHeads} heads, width {c.HiddenSize}, patch {c.PatchSize}, image {c.ImageSize}, {c.Labels.Count} classes";
            }
            case HookedVitFamilies.Dinov2:
            {
                var c = Dinov2Config.Load(folder);
                return $"{c.NumHiddenLayers} layers × {c.NumAttentionHeads} heads, width {c.HiddenSize}, patch {c.PatchSize}, image {c.ImageSize}" + (c.UseSwiGluFfn ? ", SwiGLU MLP" : "");
            }
            case "unet":
            {
                var c = UNet2DConditionConfig.Load(folder);
                return $"{c.BlockOutChannels.Length} levels ({string.Join(", ", c.BlockOutChannels)} channels), {string.Join("/", c.LayersPerBlock)} resnets per level, " +
                       $"head size {string.Join("/", c.AttentionHeadDim.Distinct())}, latent {c.InChannels} → {c.OutChannels} channels, image embedding {c.EncoderHidDim}";
            }
            case "movq":
            {
                var c = VqModelConfig.Load(folder);
                return $"{c.BlockOutChannels.Count} levels ({string.Join(", ", c.BlockOutChannels)} channels), latent {c.LatentChannels} channels (÷{c.ScaleFactor} size), " +
                       $"{c.NumVqEmbeddings} codes, {c.NormType} norm";
            }
            default:
            {
                var c = DdpmSchedulerConfig.Load(folder);
                return $"DDPM, {c.NumTrainTimesteps} training steps, {c.BetaSchedule} betas, predicts {c.PredictionType}, variance {c.VarianceType}";
            }
        }
    }
}
