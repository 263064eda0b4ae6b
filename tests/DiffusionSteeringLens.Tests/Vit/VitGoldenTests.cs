using System.Text.RegularExpressions;
using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Vit;

/// <summary>Parity of every tensor in the ViTForImageClassification golden cases with Hugging Face transformers.</summary>
[Trait("Category", "Golden")]
public sealed class VitGoldenTests
{
    private readonly ITestOutputHelper _out;

    public VitGoldenTests(ITestOutputHelper output) => _out = output;

    public static IEnumerable<object[]> Cases() => Fixtures.Cases("vit", _ => new[] { "cases" });

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryTensorMatchesTransformers(GoldenCase golden)
    {
        golden.EnsurePresent();
        using var scope = torch.NewDisposeScope();
        using var cases = golden.OpenCases();
        using var model = FamilyGolden.LoadVit(golden.Folder);
        int layers = model.Architecture.NumLayers;
        var pixels = cases.Load("pixel_values");
        using var full = model.RunWithCache(pixels, new CacheRequest { NameFilter = _ => true });
        using var plain = model.RunWithCache(pixels, CacheRequest.All);
        var c = full.Cache;
        var checks = new FamilyGoldenChecks(_out, golden.ToString());

        foreach (var name in cases.Names.OrderBy(n => n, StringComparer.Ordinal))
        {
            if (name == "pixel_values" || name.StartsWith("preprocess.", StringComparison.Ordinal)) continue;
            if (checks.TryAddShared(name, cases, c, layers)) continue;
            var expected = cases.Load(name);
            if (name == "last_hidden_state") checks.Add(name, expected, model.FinalNorm(c[HookNames.ResidPost(layers - 1)]));
            else if (name == "logits")
            {
                checks.Add(name, expected, full.Output);
                checks.Add("logits (plain Forward)", expected, model.Forward(pixels));
                checks.Add("logits (hook_image_embeds)", expected, c[HookNames.ImageEmbeds]);
                checks.Add("logits (Readout of final CLS residual)", expected, model.Readout(c[HookNames.ResidPost(layers - 1)].select(1, 0)));
            }
            else if (Regex.Match(name, @"^layers\.(\d+)\.(attn_output|mlp_output)$") is { Success: true } m)
            {
                int l = int.Parse(m.Groups[1].Value);
                if (m.Groups[2].Value == "attn_output")
                {
                    checks.Add(name, expected, c[HookNames.AttnOut(l)]);
                    checks.Add($"{name} (fused out-projection)", expected, plain.Cache[HookNames.AttnOut(l)]);
                }
                else checks.Add(name, expected, c[HookNames.MlpOut(l)]);
            }
            else throw new Xunit.Sdk.XunitException($"Unmapped golden tensor '{name}': every tensor must be checked.");
        }
        checks.AddPreprocessing(golden.Folder, cases, FamilyGolden.Processor(golden.Folder), model);
        checks.AssertAll();
        Assert.True(checks.Count >= cases.Names.Count - 1);
    }
}
