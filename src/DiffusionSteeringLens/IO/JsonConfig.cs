using System.Text.Json;
using System.Text.Unicode;

namespace DiffusionSteeringLens.IO;

/// <summary>
/// Typed, validating access to a Hugging Face / diffusers JSON config. Unknown keys are tolerated; a missing key
/// or JSON <c>null</c> takes the caller's default (the reference library's); a value of the wrong type or out of
/// range throws a <see cref="ConfigException"/> naming the file and key.
/// </summary>
internal sealed class JsonConfig
{
    /// <summary>Upper bound on a config file's size; real configs are a few kilobytes.</summary>
    internal const long MaxConfigBytes = 16L * 1024 * 1024;

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private readonly JsonElement _root;

    private JsonConfig(string filePath, JsonElement root)
    {
        FilePath = filePath;
        _root = root;
    }

    /// <summary>The file this config came from.</summary>
    public string FilePath { get; }

    /// <summary>Reads a config file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ConfigException">Not well-formed JSON, or not a JSON object.</exception>
    public static JsonConfig Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        path = Path.GetFullPath(path);
        if (Directory.Exists(path)) throw new ConfigException(path, null, "is a folder, not a config file.");
        if (!File.Exists(path)) throw new FileNotFoundException($"Config file not found: {path}", path);
        long length = new FileInfo(path).Length;
        if (length > MaxConfigBytes)
            throw new ConfigException(path, null, $"is {length} bytes; a config file is at most {MaxConfigBytes} bytes.");
        ReadOnlyMemory<byte> bytes = File.ReadAllBytes(path);
        // Editors on Windows may save with a UTF-8 byte order mark; it carries no content, so it is skipped.
        if (bytes.Span.StartsWith(Utf8Bom)) bytes = bytes[Utf8Bom.Length..];
        // System.Text.Json checks UTF-8 only when a string is read; check it up front so bad bytes are a config error.
        if (!Utf8.IsValid(bytes.Span)) throw new ConfigException(path, null, "is not valid UTF-8 text.");
        try
        {
            // Duplicate keys are refused: Python's json keeps the last one, so any choice here could differ silently.
            var options = new JsonDocumentOptions { AllowTrailingCommas = true, AllowDuplicateProperties = false };
            using var doc = JsonDocument.Parse(bytes, options);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ConfigException(path, null, $"expected a JSON object, found {doc.RootElement.ValueKind}.");
            if (JsonStringCheck.FirstUndecodable(doc.RootElement) is { } undecodable)
                throw new ConfigException(path, null, $"{undecodable}.");
            return new JsonConfig(path, doc.RootElement.Clone());
        }
        catch (JsonException e)
        {
            throw new ConfigException(path, null, $"not well-formed JSON ({e.Message}).", e);
        }
    }

    /// <summary>Wraps an already parsed object (e.g. a nested <c>vision_config</c>).</summary>
    public static JsonConfig FromElement(string filePath, JsonElement element) =>
        element.ValueKind == JsonValueKind.Object
            ? new JsonConfig(filePath, element.Clone())
            : throw new ConfigException(filePath, null, $"expected a JSON object, found {element.ValueKind}.");

    /// <summary>True when the key is present and not null.</summary>
    public bool Has(string key) => _root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>The raw element, when present and not null.</summary>
    public bool TryGet(string key, out JsonElement value) =>
        _root.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null;

    /// <summary>A nested object, or null when absent.</summary>
    public JsonConfig? GetObjectOrNull(string key)
    {
        if (!TryGet(key, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Object) throw Bad(key, "an object", v);
        return new JsonConfig(FilePath, v);
    }

    /// <summary>An integer with a default and an inclusive lower bound.</summary>
    public int GetInt(string key, int defaultValue, int min = int.MinValue) => GetIntOrNull(key, min) ?? defaultValue;

    /// <summary>An integer, or null when absent/null.</summary>
    public int? GetIntOrNull(string key, int min = int.MinValue)
    {
        if (!TryGet(key, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i))
        {
            // Python writes 4.0 for some ints; accept integral doubles.
            if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue) i = (int)d;
            else throw Bad(key, "an integer", v);
        }
        if (i < min) throw new ConfigException(FilePath, key, $"must be >= {min}, found {i}.");
        return i;
    }

    /// <summary>A number with a default and optional bounds (inclusive).</summary>
    public double GetDouble(string key, double defaultValue, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        if (!TryGet(key, out var v)) return defaultValue;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || double.IsNaN(d)) throw Bad(key, "a number", v);
        if (d < min || d > max) throw new ConfigException(FilePath, key, $"must be in [{min}, {max}], found {d}.");
        return d;
    }

    /// <summary>A boolean with a default.</summary>
    public bool GetBool(string key, bool defaultValue)
    {
        if (!TryGet(key, out var v)) return defaultValue;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Bad(key, "true or false", v),
        };
    }

    /// <summary>A string with a default; when <paramref name="allowed"/> is given the value must be one of them.</summary>
    public string GetString(string key, string defaultValue, params string[] allowed) => GetStringOrNull(key, allowed) ?? defaultValue;

    /// <summary>A string or null; when <paramref name="allowed"/> is given the value must be one of them.</summary>
    public string? GetStringOrNull(string key, params string[] allowed)
    {
        if (!TryGet(key, out var v)) return null;
        if (v.ValueKind != JsonValueKind.String) throw Bad(key, "a string", v);
        var s = v.GetString()!;
        if (allowed.Length > 0 && !allowed.Contains(s))
            throw new ConfigException(FilePath, key, $"'{s}' is not supported (supported: {string.Join(", ", allowed)}).");
        return s;
    }

    /// <summary>An array of integers with a default; every element must be >= <paramref name="min"/>.</summary>
    public int[] GetIntArray(string key, int[] defaultValue, int min = int.MinValue)
    {
        if (!TryGet(key, out var v)) return defaultValue;
        if (v.ValueKind != JsonValueKind.Array) throw Bad(key, "an array of integers", v);
        return v.EnumerateArray().Select((e, i) =>
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int x)) throw Bad($"{key}[{i}]", "an integer", e);
            if (x < min) throw new ConfigException(FilePath, $"{key}[{i}]", $"must be >= {min}, found {x}.");
            return x;
        }).ToArray();
    }

    /// <summary>An array of numbers with a default.</summary>
    public double[] GetDoubleArray(string key, double[] defaultValue)
    {
        if (!TryGet(key, out var v)) return defaultValue;
        if (v.ValueKind != JsonValueKind.Array) throw Bad(key, "an array of numbers", v);
        return v.EnumerateArray().Select((e, i) =>
            e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double x) ? x : throw Bad($"{key}[{i}]", "a number", e)).ToArray();
    }

    /// <summary>An array of strings with a default.</summary>
    public string[] GetStringArray(string key, string[] defaultValue)
    {
        if (!TryGet(key, out var v)) return defaultValue;
        if (v.ValueKind != JsonValueKind.Array) throw Bad(key, "an array of strings", v);
        return v.EnumerateArray().Select((e, i) =>
            e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Bad($"{key}[{i}]", "a string", e)).ToArray();
    }

    /// <summary>An error for this file and key.</summary>
    public ConfigException Error(string key, string message) => new(FilePath, key, message);

    private ConfigException Bad(string key, string expected, JsonElement found) =>
        new(FilePath, key, $"expected {expected}, found {found.ValueKind} {Truncate(found.GetRawText())}.");

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
