using System.Text.RegularExpressions;
using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Vit;

/// <summary>Parity of every tensor in the CLIP vision golden cases with Hugging Face transformers.</summary>
[Trait("Category", "Golden")]
public sealed class ClipVisionGoldenTests
{
    private const double Tolerance = 1e-4;
    private readonly ITestOutputHelper _out;

    public ClipVisionGoldenTests(ITestOutputHelper output) => _out = output;

    public static IEnumerable<object[]> Cases() => Fixtures.Cases("clip_vision", _ => new[] { "cases" });

    // Raw-image stages belong to the image processor's tests (ClipImageProcessor), not to the model.
    private static readonly HashSet<string> ProcessorOnly = new(StringComparer.Ordinal)
    {
        "preprocess.image_uint8", "preprocess.resized_uint8", "preprocess.cropped_uint8",
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryTensorMatchesTransformers(GoldenCase golden)
    {
        golden.EnsurePresent();
        using var scope = torch.NewDisposeScope();
        using var cases = golden.OpenCases();
        using var model = ClipVisionModelWithProjection.FromPretrained(golden.Folder);
        int layers = model.Architecture.NumLayers;

        var pixels = cases.Load("pixel_values");
        // Everything, including the on-demand points, from one cached run.
        using var full = model.RunWithCache(pixels, new CacheRequest { NameFilter = _ => true });
        // A plain cached run: attention output through the fused out-projection (no per-head results).
        using var plain = model.RunWithCache(pixels, CacheRequest.All);
        var c = full.Cache;

        var checks = new List<(string Name, torch.Tensor Got)>();
        foreach (var name in cases.Names.OrderBy(n => n, StringComparer.Ordinal))
        {
            if (ProcessorOnly.Contains(name) || name == "pixel_values") continue;
            torch.Tensor got;
            if (name == "embeddings") got = c[HookNames.Embed] + c[HookNames.PosEmbed];
            else if (name == "pre_layrnorm") got = c[HookNames.LnPre];
            else if (Regex.Match(name, @"^hidden_states\.(\d+)$") is { Success: true } hs)
            {
                int i = int.Parse(hs.Groups[1].Value);
                got = i == 0 ? c[HookNames.ResidPre(0)] : c[HookNames.ResidPost(i - 1)];
                if (i < layers) checks.Add(($"{name} (resid_pre {i})", c[HookNames.ResidPre(i)]));
            }
            else if (name == "last_hidden_state") got = c[HookNames.ResidPost(layers - 1)];
            else if (Regex.Match(name, @"^layers\.(\d+)\.(\w+)$") is { Success: true } lm)
            {
                int l = int.Parse(lm.Groups[1].Value);
                got = lm.Groups[2].Value switch
                {
                    "layer_norm1_output" => c[HookNames.Ln1(l)],
                    "attn_probs" => c[HookNames.Pattern(l)],
                    "attn_output" => c[HookNames.AttnOut(l)],
                    "head_contributions" => c[HookNames.Result(l)],
                    "layer_norm2_output" => c[HookNames.Ln2(l)],
                    "mlp_output" => c[HookNames.MlpOut(l)],
                    var other => throw new Xunit.Sdk.XunitException($"Unmapped golden tensor '{name}' ({other})."),
                };
                if (lm.Groups[2].Value == "attn_output") checks.Add(($"{name} (fused out_proj)", plain.Cache[HookNames.AttnOut(l)]));
            }
            else if (name == "pooler_output") got = c[HookNames.LnFinal];
            else if (name == "image_embeds")
            {
                got = full.Output;
                checks.Add(("image_embeds (plain Forward)", model.Forward(pixels)));
                checks.Add(("image_embeds (cache hook)", c[HookNames.ImageEmbeds]));
            }
            else if (name == "zero_image_embeds") got = model.ZeroImageEmbedding();
            else if (name == "preprocess.pixel_values") continue; // input of preprocess.image_embeds
            else if (name == "preprocess.image_embeds") got = model.Forward(cases.Load("preprocess.pixel_values"));
            else throw new Xunit.Sdk.XunitException($"Unmapped golden tensor '{name}': every tensor must be checked.");
            checks.Add((name, got));
        }

        var failures = new List<string>();
        foreach (var (name, got) in checks)
        {
            var refName = name.Split(' ')[0];
            using var expected = cases.Load(refName);
            try
            {
                double err = TensorAssert.CloseScaled(expected, got, Tolerance, $"{golden}:{name}");
                _out.WriteLine($"{name}: max abs error {err:E2}");
            }
            catch (Exception e) { failures.Add(e.Message); }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(checks.Count >= cases.Names.Count - ProcessorOnly.Count - 2);
    }
}
