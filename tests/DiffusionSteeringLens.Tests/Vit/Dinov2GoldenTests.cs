using System.Text.RegularExpressions;
using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Vit;

/// <summary>
/// Parity of every tensor in the Dinov2Model golden cases with Hugging Face transformers. The cases feed 20×20 inputs
/// to a model trained at 16×16, so the bicubic position interpolation is on the path of every tensor.
/// </summary>
[Trait("Category", "Golden")]
public sealed class Dinov2GoldenTests
{
    private readonly ITestOutputHelper _out;

    public Dinov2GoldenTests(ITestOutputHelper output) => _out = output;

    public static IEnumerable<object[]> Cases() => Fixtures.Cases("dinov2", _ => new[] { "cases" });

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryTensorMatchesTransformers(GoldenCase golden)
    {
        golden.EnsurePresent();
        using var scope = torch.NewDisposeScope();
        using var cases = golden.OpenCases();
        using var model = FamilyGolden.LoadDinov2(golden.Folder);
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
            else if (name == "pooler_output")
            {
                checks.Add(name, expected, full.Output);
                checks.Add("pooler_output (plain Forward)", expected, model.Forward(pixels));
                checks.Add("pooler_output (ln_final)", expected, c[HookNames.LnFinal]);
                checks.Add("pooler_output (Readout of final CLS residual)", expected, model.Readout(c[HookNames.ResidPost(layers - 1)].select(1, 0)));
            }
            else if (Regex.Match(name, @"^layers\.(\d+)\.(attn_output|mlp_output|attn_scaled|mlp_scaled)$") is { Success: true } m)
            {
                int l = int.Parse(m.Groups[1].Value);
                switch (m.Groups[2].Value)
                {
                    case "attn_scaled":
                        checks.Add(name, expected, c[HookNames.AttnOut(l)]);
                        checks.Add($"{name} (fused out-projection)", expected, plain.Cache[HookNames.AttnOut(l)]);
                        break;
                    case "mlp_scaled":
                        checks.Add(name, expected, c[HookNames.MlpOut(l)]);
                        break;
                    case "attn_output":
                        // Before layer scale: the cached per-head values through the unscaled out-projection.
                        var z = c[HookNames.Z(l)];
                        checks.Add(name, expected, torch.nn.functional.linear(z.reshape(z.shape[0], z.shape[1], -1),
                            model.OutProjWeight(l), model.OutProjBias(l)));
                        break;
                    default:
                        // mlp_output is before layer scale: scaling the reference by λ₂ must give the cached term.
                        checks.Add($"{name} × λ₂", expected * model.MlpLayerScale(l), c[HookNames.MlpOut(l)]);
                        break;
                }
            }
            else throw new Xunit.Sdk.XunitException($"Unmapped golden tensor '{name}': every tensor must be checked.");
        }
        checks.AddPreprocessing(golden.Folder, cases, FamilyGolden.Processor(golden.Folder), model);
        checks.AssertAll();
        Assert.True(checks.Count >= cases.Names.Count - 1);
    }
}
