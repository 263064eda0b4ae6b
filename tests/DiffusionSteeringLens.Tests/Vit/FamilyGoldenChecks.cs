using System.Text.RegularExpressions;
using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Vit;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Vit;

/// <summary>
/// The checks ViT and DINOv2 golden cases share (they use the same tensor names): residual stream, per-layer terms,
/// per-head contributions, the image processor on the stored PNG and the end-to-end output. Family-specific tensors
/// are mapped by the caller; any tensor nobody maps fails the test.
/// </summary>
internal sealed class FamilyGoldenChecks
{
    public const double Tolerance = 1e-4;

    private readonly List<(string Label, torch.Tensor Expected, torch.Tensor Got)> _checks = new();
    private readonly ITestOutputHelper _out;
    private readonly string _case;

    public FamilyGoldenChecks(ITestOutputHelper output, string caseLabel)
    {
        _out = output;
        _case = caseLabel;
    }

    public int Count => _checks.Count;

    public void Add(string label, torch.Tensor expected, torch.Tensor got) => _checks.Add((label, expected, got));

    /// <summary>Maps a name every family shares; false when the caller must map it.</summary>
    public bool TryAddShared(string name, SafetensorsFile cases, ActivationCache c, int layers)
    {
        var expected = cases.Load(name);
        if (name == "embeddings")
        {
            Add(name, expected, c[HookNames.Embed] + c[HookNames.PosEmbed]);
            Add($"{name} (ln_pre)", expected, c[HookNames.LnPre]);
            return true;
        }
        if (Regex.Match(name, @"^hidden_states\.(\d+)$") is { Success: true } hs)
        {
            int i = int.Parse(hs.Groups[1].Value);
            Add(name, expected, i == 0 ? c[HookNames.ResidPre(0)] : c[HookNames.ResidPost(i - 1)]);
            if (i < layers) Add($"{name} (resid_pre {i})", expected, c[HookNames.ResidPre(i)]);
            return true;
        }
        if (Regex.Match(name, @"^layers\.(\d+)\.(\w+)$") is { Success: true } lm)
        {
            int l = int.Parse(lm.Groups[1].Value);
            string? hook = lm.Groups[2].Value switch
            {
                "ln1_output" => HookNames.Ln1(l),
                "attn_probs" => HookNames.Pattern(l),
                "head_contributions" => HookNames.Result(l),
                "ln2_output" => HookNames.Ln2(l),
                _ => null,
            };
            if (hook is null) { expected.Dispose(); return false; }
            Add(name, expected, c[hook]);
            return true;
        }
        expected.Dispose();
        return false;
    }

    /// <summary>
    /// The processor on the stored PNG: decoded pixels equal <c>preprocess.image_uint8</c>, processed pixels match
    /// <c>preprocess.pixel_values</c>, and the model's output on them matches <c>preprocess.output</c>.
    /// </summary>
    public void AddPreprocessing(string folder, SafetensorsFile cases, ClipImageProcessor processor, IHookedVit model)
    {
        var imageFile = Directory.GetFiles(folder, "image_*.png").Single();
        using var decoded = ImageIO.LoadRgb(imageFile);
        using var stored = cases.Load("preprocess.image_uint8");
        TensorAssert.Equal(stored, decoded, $"{_case}:preprocess.image_uint8 (PNG decode)");
        var pixels = processor.Preprocess(stored);
        Add("preprocess.pixel_values", cases.Load("preprocess.pixel_values"), pixels);
        Add("preprocess.output", cases.Load("preprocess.output"), model.Forward(pixels));
    }

    /// <summary>Asserts every check, reporting all failures at once.</summary>
    public void AssertAll()
    {
        var failures = new List<string>();
        foreach (var (label, expected, got) in _checks)
        {
            try
            {
                double err = TensorAssert.CloseScaled(expected, got, Tolerance, $"{_case}:{label}");
                _out.WriteLine($"{label}: max abs error {err:E2}");
            }
            catch (Exception e) { failures.Add(e.Message); }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
