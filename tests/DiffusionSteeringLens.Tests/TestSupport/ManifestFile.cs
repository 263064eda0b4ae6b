using System.Globalization;

namespace DiffusionSteeringLens.Tests.TestSupport;

/// <summary>Reads a full-size key/shape manifest (<c>shared/golden/manifests/*.txt</c> format: 4 header lines, then key TAB shape).</summary>
internal static class ManifestFile
{
    /// <summary>Key → shape, plus the header's declared parameter and tensor counts (−1 when absent).</summary>
    public static (Dictionary<string, long[]> Shapes, long Parameters, int Tensors) Read(string path)
    {
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        long parameters = -1;
        int tensors = -1;
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith("# parameters:", StringComparison.Ordinal))
                parameters = long.Parse(line["# parameters:".Length..].Trim(), CultureInfo.InvariantCulture);
            else if (line.StartsWith("# tensors:", StringComparison.Ordinal))
                tensors = int.Parse(line["# tensors:".Length..].Trim(), CultureInfo.InvariantCulture);
            if (line.StartsWith('#') || line.Length == 0) continue;
            var parts = line.Split('\t');
            shapes.Add(parts[0], parts[1].Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray());
        }
        return (shapes, parameters, tensors);
    }
}
