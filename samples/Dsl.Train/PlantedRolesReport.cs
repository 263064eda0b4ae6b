using System.Text.Json;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Synthetic;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>
/// Writes <c>planted-roles.json</c> after a planted run: on 200 held-out images, the attention mass each mark's readers
/// and the strongest non-reader put on the mark's patches, the indirect-only head's direct-write ratio and the dead
/// head's weight norm — the evidence that the roles hold in the trained weights without any mask.
/// </summary>
internal static class PlantedRolesReport
{
    public static void Write(ClipVisionModelWithProjection model, IReadOnlyList<MarkedShapeAttributes> images, string path)
    {
        int heads = model.Config.NumAttentionHeads, headDim = model.Config.HiddenSize / heads;
        var sample = images.Take(200).ToList();
        Dictionary<MarkKind, float[]> table, cls;
        using (var scope = NewDisposeScope())
        {
            var pixels = ToyModel.Normalize(MarkedShapeDomain.Render(sample));
            (table, cls) = PlantedRoles.LeakTables(model, pixels);
        }
        string Label(int index) => $"L{index / heads}H{index % heads}";
        var marks = new Dictionary<string, object>();
        foreach (var (kind, mass) in table)
        {
            var readers = PlantedRoles.Readers[kind].Select(r => r.Layer * heads + r.Head).ToHashSet();
            var others = Enumerable.Range(0, mass.Length).Where(i => !readers.Contains(i)).OrderByDescending(i => mass[i]).ToList();
            marks[kind.ToString().ToLowerInvariant()] = new Dictionary<string, object>
            {
                ["patch_tokens"] = PlantedRoles.MarkTokens(kind, model.Config.ImageSize, model.Config.PatchSize),
                ["readers"] = readers.ToDictionary(Label, i => Math.Round(mass[i], 5)),
                ["strongest_non_reader"] = Label(others[0]),
                ["strongest_non_reader_mass"] = mass[others[0]],
                ["non_reader_mass_sum"] = others.Sum(i => (double)mass[i]),
                ["non_reader_mass_mean"] = others.Average(i => (double)mass[i]),
                ["readers_cls_query"] = readers.ToDictionary(Label, i => Math.Round(cls[kind][i], 5)),
                ["strongest_non_reader_cls_query"] = Label(others.OrderByDescending(i => cls[kind][i]).First()),
                ["strongest_non_reader_cls_query_mass"] = others.Max(i => cls[kind][i]),
            };
        }
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        var dead = p[$"vision_model.encoder.layers.{PlantedRoles.Dead.Layer}.self_attn.out_proj.weight"];
        double deadNorm;
        using (no_grad()) using (var cols = dead[.., (PlantedRoles.Dead.Head * headDim)..((PlantedRoles.Dead.Head + 1) * headDim)].norm()) deadNorm = cols.item<float>();
        double ratio = PlantedRoles.IndirectDirectRatio(model);
        var report = new Dictionary<string, object>
        {
            ["images"] = sample.Count,
            ["image_seed"] = DistilTraining.HeldOutSeed,
            ["attention_mass_on_mark_patches"] = "mean over images and query tokens of the attention a head puts on the mark's patch tokens (uniform attention would give tokens/65); *_cls_query: the CLS query alone, where the read-out reads from",
            ["marks"] = marks,
            ["indirect_only"] = new Dictionary<string, object>
            {
                ["head"] = $"L{PlantedRoles.IndirectOnly.Layer}H{PlantedRoles.IndirectOnly.Head}",
                ["readout_linear_part_ratio"] = ratio,
            },
            ["dead"] = new Dictionary<string, object> { ["head"] = $"L{PlantedRoles.Dead.Layer}H{PlantedRoles.Dead.Head}", ["out_proj_norm"] = deadNorm },
            ["redundant_pair"] = PlantedRoles.RedundantPair.Select(r => $"L{r.Layer}H{r.Head}").ToArray(),
        };
        File.WriteAllText(path, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Log.Line($"planted roles: " + string.Join("; ", table.Select(kv =>
        {
            var readers = PlantedRoles.Readers[kv.Key].Select(r => r.Layer * heads + r.Head).ToHashSet();
            return $"{kv.Key} readers {string.Join(",", readers.Select(i => $"{Label(i)} {kv.Value[i]:F3}"))}, max other {Enumerable.Range(0, kv.Value.Length).Where(i => !readers.Contains(i)).Max(i => kv.Value[i]):E2}";
        })) + $"; indirect ratio {ratio:E2}; dead norm {deadNorm:E2}");
    }
}
