using System.Text.RegularExpressions;
using DiffusionSteeringLens.Runtime;

namespace DiffusionSteeringLens.Tests.Docs;

/// <summary>
/// The library's public surface: the count docs/architecture.md states is the real one, and model building blocks
/// (UNet/MoVQ/CLIP layers, the ELF patcher) stay internal, so a user sees model roots, not their insides.
/// </summary>
public sealed class PublicSurfaceTests
{
    private static readonly Type[] Exported = typeof(TorchNativeLoader).Assembly.GetExportedTypes();

    [Fact]
    public void ArchitectureDocStatesTheRealPublicTypeCount()
    {
        var doc = File.ReadAllText(Path.Combine(DocSnippetTests.RepositoryRoot(), "docs", "architecture.md"));
        var stated = Regex.Match(doc, @"\*\*(\d+) public types\*\*");
        Assert.True(stated.Success, "docs/architecture.md must state the count as **N public types**.");
        Assert.True(int.Parse(stated.Groups[1].Value) == Exported.Length,
            $"docs/architecture.md states {stated.Groups[1].Value} public types; the assembly exports {Exported.Length}:\n" +
            string.Join("\n", Exported.Select(t => t.FullName).Order(StringComparer.Ordinal)));
    }

    [Fact]
    public void ModelBuildingBlocksAreInternal()
    {
        // The roots a user loads and the configs they read (which live next to their models) stay public; everything
        // else in the model folders is an implementation detail.
        var roots = new HashSet<string>(StringComparer.Ordinal)
        {
            "UNet2DConditionModel", "ClipVisionModelWithProjection", "ClipImageProcessor", "ViTForImageClassification", "Dinov2Model",
            "UNet2DConditionConfig", "VqModelConfig", "ClipVisionConfig", "ClipImageProcessorConfig", "VitConfig", "Dinov2Config",
        };
        var blocks = Exported.Where(t => t.Namespace is { } ns
                && (ns.EndsWith(".Unet", StringComparison.Ordinal) || ns.EndsWith(".MoVq", StringComparison.Ordinal)
                    || ns.EndsWith(".ClipVision", StringComparison.Ordinal) || ns.EndsWith(".HfLayout", StringComparison.Ordinal)
                    || ns.EndsWith(".ViT", StringComparison.Ordinal) || ns.EndsWith(".Dinov2", StringComparison.Ordinal))
                && !roots.Contains(t.Name))
            .Select(t => t.FullName).ToList();
        Assert.Empty(blocks);
        Assert.DoesNotContain(Exported, t => t.Name is "Encoder" or "Decoder" or "ElfVersionPatcher");
    }

    [Fact]
    public void DecoderAbstractionsAreDecoderNeutral()
    {
        // A custom decoder implements IEmbeddingDecoder without touching Kandinsky types or its guidance settings.
        var neutral = typeof(DiffusionSteeringLens.Decoding.IEmbeddingDecoder).Namespace;
        Assert.Equal("DiffusionSteeringLens.Decoding", neutral);
        Assert.Equal(neutral, typeof(DiffusionSteeringLens.Decoding.DecodeOptions).Namespace);
        Assert.Null(typeof(DiffusionSteeringLens.Decoding.DecodeOptions).GetProperty("GuidanceScale"));
        Assert.Null(typeof(DiffusionSteeringLens.Decoding.DecodeOptions).GetProperty("NumInferenceSteps"));
    }
}
