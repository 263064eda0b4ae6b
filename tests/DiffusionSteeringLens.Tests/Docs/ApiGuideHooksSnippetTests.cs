using System.Text.RegularExpressions;
using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Tests.TestSupport;
using DiffusionSteeringLens.Tests.Vit;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Docs;

/// <summary>
/// Runs the calls of docs/api-guide.md §2 (hooks, caches, interventions) on the golden tiny CLIP model. DocSnippetTests
/// only compiles the snippets; §2 once compiled but threw at <c>Decompose()</c> because it cached too few hook points.
/// </summary>
public sealed class ApiGuideHooksSnippetTests
{
    // The statements below, whitespace-normalised, must appear in the §2 snippet, so the test and the doc cannot drift apart.
    private static readonly string[] SnippetStatements =
    {
        "int numLayers = encoder.Architecture.NumLayers;",
        "var names = Enumerable.Range(0, numLayers) .SelectMany(l => new[] { HookNames.Result(l), HookNames.AttnOut(l), HookNames.MlpOut(l) }) .Append(HookNames.LnPre).Append(HookNames.ResidPost(numLayers - 1));",
        "using var run = encoder.RunWithCache(pixels, CacheRequest.ForNames(names, positions: new[] { 0 }));",
        "using var heads = run.Cache.StackedHeadResults();",
        "using var parts = run.Cache.Decompose();",
        "using var total = parts.Components.sum(dim: 0);",
        "using var ablated = encoder.RunWithHooks(pixels, new[] { Interventions.ZeroAblateHead(layer: 1, head: 1), Interventions.ScaleHead(layer: 0, head: 0, alpha: 4, positions: new[] { 0 }), });",
    };

    private readonly ITestOutputHelper _out;

    public ApiGuideHooksSnippetTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void The_section_2_snippet_holds_the_statements_this_test_runs()
    {
        var markdown = File.ReadAllText(Path.Combine(DocSnippetTests.RepositoryRoot(), "docs", "api-guide.md"));
        var section = Regex.Match(markdown, @"^## 2\..*?```csharp\r?\n(.*?)```", RegexOptions.Singleline | RegexOptions.Multiline);
        Assert.True(section.Success, "api-guide.md has no §2 C# snippet");
        var code = Normalise(Regex.Replace(section.Groups[1].Value, @"//[^\n]*", ""));
        foreach (var statement in SnippetStatements)
            Assert.True(code.Contains(Normalise(statement), StringComparison.Ordinal), $"§2 snippet no longer contains: {statement}\n--- snippet ---\n{code}");
    }

    [Fact]
    public void The_section_2_snippet_runs_and_its_decomposition_sums_to_the_final_residual()
    {
        using var scope = torch.NewDisposeScope();   // owns the temporaries of the checks below
        using var encoder = GoldenClip.Load();
        using var pixels = GoldenClip.RandomPixels(3, seed: 16);

        // --- the §2 snippet, verbatim ---
        int numLayers = encoder.Architecture.NumLayers;
        var names = Enumerable.Range(0, numLayers)
            .SelectMany(l => new[] { HookNames.Result(l), HookNames.AttnOut(l), HookNames.MlpOut(l) })
            .Append(HookNames.LnPre).Append(HookNames.ResidPost(numLayers - 1));
        using var run = encoder.RunWithCache(pixels, CacheRequest.ForNames(names, positions: new[] { 0 }));
        using var heads = run.Cache.StackedHeadResults();
        using var parts = run.Cache.Decompose();
        using var total = parts.Components.sum(dim: 0);
        using var ablated = encoder.RunWithHooks(pixels, new[]
        {
            Interventions.ZeroAblateHead(layer: 1, head: 1),
            Interventions.ScaleHead(layer: 0, head: 0, alpha: 4, positions: new[] { 0 }),
        });
        // --- end of snippet ---

        var a = encoder.Architecture;
        int componentCount = 1 + a.NumLayers * (a.NumHeads + 2);
        Assert.Equal(new long[] { a.NumLayers, 3, 1, a.NumHeads, a.ModelDim }, heads.shape);
        Assert.Equal(new long[] { componentCount, 3, 1, a.ModelDim }, parts.Components.shape);
        // sum(dim: 0), not sum(0): a bare 0 binds to sum(ScalarType) and returns one scalar.
        Assert.Equal(new long[] { 3, 1, a.ModelDim }, total.shape);

        // The head components are the cached head results themselves (a permuted copy, so bit-equal).
        using var layer1Heads = parts.Components.narrow(0, 1 + (a.NumHeads + 2), a.NumHeads);   // [H, B, 1, D]
        using var headsOfLayer1 = heads[1];
        using var cachedLayer1 = headsOfLayer1.permute(2, 0, 1, 3);
        TensorAssert.Equal(cachedLayer1, layer1Heads, "layer-1 head components");

        // Σ components == final residual. float32 bound: the model sums the same terms along another path
        // (resid += attn_out, += mlp_out; attn_out from one fused matmul), and the decomposition adds
        // Σ_h result, attn_out − Σ_h result and a C-term sum; each rounding moves a partial sum by ≤ u·(its size),
        // and no partial sum exceeds S = Σ_c |component_c|. Fewer than 2C roundings touch any element, so
        // |Σ − final| ≤ 2C·u·S elementwise with u = 2⁻²⁴ (first order; 2C·u ≈ 2e-6 here).
        var final = run.Cache[HookNames.ResidPost(numLayers - 1)];                                  // owned by the cache
        using var magnitude = parts.Components.abs().sum(dim: 0);
        using var error = (total - final).abs();
        double unitRoundoff = Math.Pow(2, -24);
        using var bound = magnitude * (2.0 * componentCount * unitRoundoff);
        using var excess = error - bound;
        using var worstExcess = excess.max();
        using var maxError = error.max();
        using var maxBound = bound.max();
        using var finalAbs = final.abs();
        using var finalMax = finalAbs.max();
        double worst = worstExcess.item<float>();
        _out.WriteLine($"{componentCount} components; max |Σ − final| {maxError.item<float>():E2}, max of bound {maxBound.item<float>():E2}");
        Assert.True(worst <= 0, $"Σ components differs from the final residual by more than 2C·u·Σ|c| (excess {worst:E2})");
        Assert.True(finalMax.item<float>() > 0.1, "final residual is ~0: the check above would be vacuous");

        // The interventions change the output (else the ablation call could be a no-op).
        Assert.Equal(run.Output.shape, ablated.shape);
        using var difference = ablated - run.Output;
        using var absDifference = difference.abs();
        using var delta = absDifference.max();
        Assert.True(delta.item<float>() > 1e-4, $"ablation left the output unchanged (max |Δ| {delta.item<float>():E2})");
    }

    private static string Normalise(string code) => Regex.Replace(code, @"\s+", " ").Trim();
}
