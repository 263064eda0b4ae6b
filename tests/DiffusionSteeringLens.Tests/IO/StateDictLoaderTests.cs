using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch.nn;

namespace DiffusionSteeringLens.Tests.IO;

public sealed class StateDictLoaderTests
{
    private sealed class Tiny : Module<torch.Tensor, torch.Tensor>
    {
        private readonly TorchSharp.Modules.Linear proj;
        private readonly TorchSharp.Modules.LayerNorm norm;

        public Tiny() : base("Tiny")
        {
            proj = Linear(4, 3);
            norm = LayerNorm(3);
            RegisterComponents();
        }

        public override torch.Tensor forward(torch.Tensor x) => norm.call(proj.call(x));
    }

    private static string Write(Dictionary<string, torch.Tensor> tensors)
    {
        var path = Path.Combine(Fixtures.TempFolder(), "w.safetensors");
        SafetensorsWriter.Write(path, tensors);
        foreach (var t in tensors.Values) t.Dispose();
        return path;
    }

    [Fact]
    public void LoadsMatchingCheckpointAndUpcastsFloat16()
    {
        using var w = torch.randn(3, 4);
        var path = Write(new()
        {
            ["proj.weight"] = w.to(torch.float16), ["proj.bias"] = torch.zeros(3, dtype: torch.float16),
            ["norm.weight"] = torch.ones(3), ["norm.bias"] = torch.zeros(3),
            ["vision_model.embeddings.position_ids"] = torch.arange(3),
        });
        using var m = new Tiny();
        using var src = SafetensorsFile.Open(path);
        int n = StateDictLoader.Load(m, src, new StateDictLoadOptions { IgnoreUnexpected = new[] { "vision_model.embeddings.position_ids" } });
        Assert.Equal(4, n);
        using var expected = w.to(torch.float16).to(torch.float32);
        TensorAssert.Equal(expected, m.state_dict()["proj.weight"], "proj.weight");
    }

    [Fact]
    public void ReportsEveryProblemInOneException()
    {
        var path = Write(new()
        {
            ["proj.weight"] = torch.zeros(3, 5),          // shape mismatch
            ["proj.bias"] = torch.zeros(3, dtype: torch.int64), // dtype mismatch
            ["norm.weight"] = torch.ones(1),               // would broadcast in TorchSharp; must be refused
            ["extra.weight"] = torch.ones(2),              // unexpected
            // norm.bias missing
        });
        using var m = new Tiny();
        using var src = SafetensorsFile.Open(path);
        var ex = Assert.Throws<StateDictMismatchException>(() => StateDictLoader.Load(m, src));
        Assert.Equal(new[] { "norm.bias [3]" }, ex.Missing);
        Assert.Equal(new[] { "extra.weight" }, ex.Unexpected);
        Assert.Contains(ex.ShapeMismatches, s => s.StartsWith("proj.weight: checkpoint [3, 5] vs module [3, 4]"));
        Assert.Contains(ex.ShapeMismatches, s => s.StartsWith("norm.weight: checkpoint [1] vs module [3]"));
        Assert.Equal(new[] { "proj.bias: checkpoint I64 vs module Float32" }, ex.DTypeMismatches);
        Assert.Contains(path, ex.Message);
        foreach (var key in new[] { "norm.bias", "extra.weight", "proj.weight", "norm.weight", "proj.bias" }) Assert.Contains(key, ex.Message);
    }

    [Fact]
    public void RenameAndAllowMissingAreHonoured()
    {
        var path = Write(new()
        {
            ["proj.query.weight"] = torch.ones(3, 4), ["proj.bias"] = torch.zeros(3),
            ["norm.weight"] = torch.ones(3),
        });
        using var m = new Tiny();
        using var src = SafetensorsFile.Open(path);
        var n = StateDictLoader.Load(m, src, new StateDictLoadOptions
        {
            RenameCheckpointKey = k => k.Replace("proj.query.", "proj."),
            AllowMissing = new[] { "norm.b*" },
        });
        Assert.Equal(3, n);
        Assert.Equal(12f, m.state_dict()["proj.weight"].sum().item<float>());
    }
}
