using System.Text.Json;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Kandinsky.Pipeline;

/// <summary>One golden pipeline case: inputs, options and recorded tensors, all read from the case file.</summary>
internal sealed class PipelineCase : IDisposable
{
    private readonly List<torch.Tensor> _owned = new();

    public PipelineCase(GoldenCase goldenCase)
    {
        Case = goldenCase;
        using var f = goldenCase.OpenCases();
        string p = goldenCase.Name;
        torch.Tensor Load(string name)
        {
            using var raw = f.Load($"{p}.{name}");
            var t = raw.clone().DetachFromDisposeScope();
            _owned.Add(t);
            return t;
        }
        ImageEmbeds = Load("image_embeds");
        NegativeImageEmbeds = Load("negative_image_embeds");
        InitialLatents = Load("initial_latents");
        FinalLatents = Load("final_latents");
        DecodedRaw = Load("decoded_raw");
        Image = Load("image");
        using (var n = f.Load($"{p}.num_inference_steps")) Steps = (int)n.item<long>();
        using (var g = f.Load($"{p}.guidance_scale")) GuidanceScale = g.item<float>();
        using (var h = f.Load($"{p}.height")) Height = (int)h.item<long>();
        using (var w = f.Load($"{p}.width")) Width = (int)w.item<long>();
        using (var ts = f.Load($"{p}.timesteps")) Timesteps = ts.data<long>().ToArray();
        for (int i = 0; f.Contains($"{p}.step{i}.unet_output"); i++)
        {
            UnetOutputs.Add(Load($"step{i}.unet_output"));
            LatentsIn.Add(Load($"step{i}.latents_in"));
            LatentsOut.Add(Load($"step{i}.latents_out"));
            VarianceNoises.Add(Load($"step{i}.variance_noise"));
        }
        SchedulerConfigFile = Path.Combine(goldenCase.Folder,
            f.Metadata.TryGetValue($"{p}.scheduler_config_file", out var s) ? s : "scheduler_config.json");
        ComponentFolders = ReadComponents(goldenCase.Folder);
    }

    public GoldenCase Case { get; }
    public torch.Tensor ImageEmbeds { get; }
    public torch.Tensor NegativeImageEmbeds { get; }
    public torch.Tensor InitialLatents { get; }
    public torch.Tensor FinalLatents { get; }
    public torch.Tensor DecodedRaw { get; }
    public torch.Tensor Image { get; }
    public int Steps { get; }

    /// <summary>Pictures B in the case.</summary>
    public int Pictures => (int)ImageEmbeds.shape[0];
    public double GuidanceScale { get; }
    public int Height { get; }
    public int Width { get; }
    public long[] Timesteps { get; }
    public List<torch.Tensor> UnetOutputs { get; } = new();
    public List<torch.Tensor> LatentsIn { get; } = new();
    public List<torch.Tensor> LatentsOut { get; } = new();
    public List<torch.Tensor> VarianceNoises { get; } = new();
    public string SchedulerConfigFile { get; }

    /// <summary>Component folders (unet, movq) named by <c>components.json</c>, relative to the case folder.</summary>
    public IReadOnlyDictionary<string, string> ComponentFolders { get; }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
    }

    private static Dictionary<string, string> ReadComponents(string folder)
    {
        var result = new Dictionary<string, string>
        {
            ["unet"] = Path.Combine(folder, "..", "unet"),
            ["movq"] = Path.Combine(folder, "..", "movq"),
        };
        var file = Path.Combine(folder, "components.json");
        if (!File.Exists(file)) return result;
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        foreach (var key in new[] { "unet", "movq" })
            if (doc.RootElement.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String)
                result[key] = Path.GetFullPath(Path.Combine(folder, v.GetString()!));
        return result;
    }
}
