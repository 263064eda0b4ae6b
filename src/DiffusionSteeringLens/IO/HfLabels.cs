using System.Text.Json;

namespace DiffusionSteeringLens.IO;

/// <summary>Reads a transformers classification config's <c>id2label</c> (or <c>num_labels</c>) into names by index.</summary>
internal static class HfLabels
{
    /// <summary>
    /// Names 0 … K−1 from <c>id2label</c> (keys must be exactly 0 … K−1); without it <c>LABEL_i</c> for
    /// <c>num_labels</c> (transformers' default 2).
    /// </summary>
    public static IReadOnlyList<string> Read(JsonConfig json)
    {
        if (!json.TryGet("id2label", out var map) || map.ValueKind == JsonValueKind.Null)
        {
            int n = json.GetInt("num_labels", 2, min: 1);
            return Enumerable.Range(0, n).Select(i => $"LABEL_{i}").ToArray();
        }
        if (map.ValueKind != JsonValueKind.Object) throw json.Error("id2label", "expected an object {\"0\": \"name\", …}.");
        var byId = new SortedDictionary<int, string>();
        foreach (var p in map.EnumerateObject())
        {
            if (!int.TryParse(p.Name, out var id) || id < 0) throw json.Error("id2label", $"key '{p.Name}' is not a class index.");
            if (p.Value.ValueKind != JsonValueKind.String) throw json.Error("id2label", $"label of class {id} is not a string.");
            byId[id] = p.Value.GetString()!;
        }
        if (byId.Count == 0) throw json.Error("id2label", "is empty.");
        if (byId.Keys.Last() != byId.Count - 1) throw json.Error("id2label", $"class indices must be 0 … {byId.Count - 1} without gaps.");
        return byId.Values.ToArray();
    }
}
