using System.Text.Json;
using System.Text.Unicode;
using TorchSharp;

namespace DiffusionSteeringLens.IO;

/// <summary>A sharded checkpoint described by a <c>*.safetensors.index.json</c> (<c>weight_map</c>: tensor → shard file).</summary>
internal sealed class ShardedSafetensors : ITensorSource
{
    private readonly Dictionary<string, SafetensorsFile> _byTensor;
    private readonly List<SafetensorsFile> _shards;

    private ShardedSafetensors(string indexPath, Dictionary<string, SafetensorsFile> byTensor, List<SafetensorsFile> shards)
    {
        SourcePath = indexPath;
        _byTensor = byTensor;
        _shards = shards;
    }

    /// <inheritdoc />
    public string SourcePath { get; }

    /// <summary>The shard files.</summary>
    public IReadOnlyList<SafetensorsFile> Shards => _shards;

    /// <inheritdoc />
    public IReadOnlyCollection<string> Names => _byTensor.Keys;

    /// <summary>Opens the index and every shard it names; checks that each listed tensor is in its shard.</summary>
    /// <exception cref="SafetensorsFormatException">Malformed index, or a tensor missing from the shard the index names.</exception>
    public static ShardedSafetensors Open(string indexPath)
    {
        indexPath = Path.GetFullPath(indexPath);
        if (!File.Exists(indexPath)) throw new FileNotFoundException($"Checkpoint index not found: {indexPath}", indexPath);
        var folder = Path.GetDirectoryName(indexPath)!;
        Dictionary<string, string> weightMap;
        try
        {
            var bytes = File.ReadAllBytes(indexPath);
            if (!Utf8.IsValid(bytes)) throw new SafetensorsFormatException(indexPath, "index is not valid UTF-8 text.");
            using var doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowDuplicateProperties = false });
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out var wm) || wm.ValueKind != JsonValueKind.Object)
                throw new SafetensorsFormatException(indexPath, "index has no 'weight_map' object.");
            if (JsonStringCheck.FirstUndecodable(wm) is { } undecodable)
                throw new SafetensorsFormatException(indexPath, $"weight_map: {undecodable}.");
            weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in wm.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String)
                    throw new SafetensorsFormatException(indexPath, $"weight_map entry '{p.Name}' must be a file name string.");
                weightMap[p.Name] = p.Value.GetString()!;
            }
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(indexPath, $"index is not well-formed JSON ({e.Message}).", e);
        }

        var shardsByFile = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        var byTensor = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (var (tensor, file) in weightMap)
            {
                if (file.Contains('/') || file.Contains('\\') || file.Contains(".."))
                    throw new SafetensorsFormatException(indexPath, $"weight_map entry '{tensor}' names '{file}', which is not a file in the index's folder.");
                if (!shardsByFile.TryGetValue(file, out var shard))
                {
                    var shardPath = Path.Combine(folder, file);
                    if (!File.Exists(shardPath))
                        throw new SafetensorsFormatException(indexPath, $"shard '{file}' (named for tensor '{tensor}') does not exist.");
                    shard = SafetensorsFile.Open(shardPath);
                    shardsByFile[file] = shard;
                }
                if (!shard.Contains(tensor))
                    throw new SafetensorsFormatException(indexPath, $"tensor '{tensor}' is mapped to shard '{file}', which does not contain it.");
                byTensor[tensor] = shard;
            }
        }
        catch
        {
            foreach (var s in shardsByFile.Values) s.Dispose();
            throw;
        }
        return new ShardedSafetensors(indexPath, byTensor, shardsByFile.Values.ToList());
    }

    /// <inheritdoc />
    public bool Contains(string name) => _byTensor.ContainsKey(name);

    /// <inheritdoc />
    public SafetensorsTensorInfo GetInfo(string name) =>
        _byTensor.TryGetValue(name, out var shard)
            ? shard.GetInfo(name)
            : throw new KeyNotFoundException($"{SourcePath}: no tensor named '{name}'.");

    /// <inheritdoc />
    public torch.Tensor Load(string name, torch.ScalarType? dtype = null, torch.Device? device = null) =>
        _byTensor.TryGetValue(name, out var shard)
            ? shard.Load(name, dtype, device)
            : throw new KeyNotFoundException($"{SourcePath}: no tensor named '{name}'.");

    /// <inheritdoc />
    public void CopyInto(string name, torch.Tensor destination) =>
        (_byTensor.TryGetValue(name, out var shard) ? shard : throw new KeyNotFoundException($"{SourcePath}: no tensor named '{name}'."))
            .CopyInto(name, destination);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var s in _shards) s.Dispose();
    }
}
