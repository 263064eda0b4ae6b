using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffusionSteeringLens.Analysis;

/// <summary>Writes result records as JSON or CSV, atomically (temporary file then rename: never a half-written file).</summary>
public static class ResultsWriter
{
    /// <summary>Serializer settings: indented, camelCase, NaN/∞ as strings.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) }, // "embedding", "zero": readable without the source
    };

    /// <summary>Writes any serialisable value as JSON.</summary>
    public static void WriteJson<T>(string path, T value) => WriteAtomic(path, JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>Writes records as CSV: a header of public property names, one row per record, invariant culture.</summary>
    public static void WriteCsv<T>(string path, IEnumerable<T> rows)
    {
        var props = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && IsScalar(p.PropertyType)).ToArray();
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(",", props.Select(p => Escape(p.Name))));
        foreach (var row in rows)
            sb.AppendLine(string.Join(",", props.Select(p => Escape(Format(p.GetValue(row))))));
        WriteAtomic(path, sb.ToString());
    }

    /// <summary>Writes text atomically.</summary>
    public static void WriteAtomic(string path, string text)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + "." + Environment.ProcessId + ".tmp";
        try
        {
            File.WriteAllText(tmp, text, new UTF8Encoding(false));
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { /* best effort */ }
            throw;
        }
    }

    // A lens target (e.g. a head) is one cell too: its label.
    private static bool IsScalar(Type t) =>
        typeof(Lenses.LensTarget).IsAssignableFrom(t) || t.IsPrimitive || t == typeof(string) || t == typeof(decimal) || t.IsEnum || Nullable.GetUnderlyingType(t) is { } u && IsScalar(u);

    private static string Format(object? v) => v switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        Lenses.LensTarget t => t.Label,
        _ => v.ToString() ?? "",
    };

    private static string Escape(string s) =>
        s.IndexOfAny(new[] { ',', '"', '\n', '\r' }) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
