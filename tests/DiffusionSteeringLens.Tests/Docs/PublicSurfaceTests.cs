using System.Reflection;
using System.Text.RegularExpressions;
using DiffusionSteeringLens.Runtime;

namespace DiffusionSteeringLens.Tests.Docs;

/// <summary>
/// The library's public surface: the counts docs/architecture.md states are the real ones (the core package within the
/// ≤ 100 types of issue 16, the studies package beside it), the core does not depend on the studies package, and model
/// building blocks (UNet/MoVQ/CLIP layers, the ELF patcher) stay internal, so a user sees model roots, not their insides.
/// </summary>
public sealed class PublicSurfaceTests
{
    private static readonly Assembly Core = typeof(TorchNativeLoader).Assembly;
    private static readonly Assembly Studies = typeof(DiffusionSteeringLens.Experiments.LensStudy).Assembly;
    private static readonly Type[] Exported = Core.GetExportedTypes();

    [Fact]
    public void ArchitectureDocStatesTheRealPublicTypeCounts()
    {
        var doc = File.ReadAllText(Path.Combine(DocSnippetTests.RepositoryRoot(), "docs", "architecture.md"));
        AssertStated(doc, "core", Exported);
        AssertStated(doc, "Studies", Studies.GetExportedTypes());
    }

    [Fact]
    public void CorePackageStaysWithinTheTargetAndWithoutTheStudies()
    {
        Assert.True(Exported.Length <= 100, $"the core package exports {Exported.Length} public types; issue 16 sets at most 100.");
        Assert.DoesNotContain(Core.GetReferencedAssemblies(), a => a.Name == Studies.GetName().Name);
        Assert.DoesNotContain(Exported, t => t.Namespace is "DiffusionSteeringLens.Experiments" or "DiffusionSteeringLens.Reports");
        // The studies package exports study types only: its own two namespaces and the steering calibration's records.
        Assert.All(Studies.GetExportedTypes(), t => Assert.Contains(t.Namespace,
            new[] { "DiffusionSteeringLens.Experiments", "DiffusionSteeringLens.Reports", "DiffusionSteeringLens.Analysis" }));
    }

    private static void AssertStated(string doc, string package, Type[] exported)
    {
        var stated = Regex.Match(doc, $@"\*\*{package}: (\d+) public types\*\*");
        Assert.True(stated.Success, $"docs/architecture.md must state the {package} package's count as **{package}: N public types**.");
        Assert.True(int.Parse(stated.Groups[1].Value) == exported.Length,
            $"docs/architecture.md states {stated.Groups[1].Value} public types for {package}; the assembly exports {exported.Length}:\n" +
            string.Join("\n", exported.Select(t => t.FullName).Order(StringComparer.Ordinal)));
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
