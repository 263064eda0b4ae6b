using System.Text.Json;

namespace DiffusionSteeringLens.IO;

/// <summary>
/// Finds JSON strings that cannot become .NET strings: a <c>\uD800</c>-style escape for a lone UTF-16 surrogate parses,
/// but reading it later throws <see cref="InvalidOperationException"/>. Checking once after parsing turns that into the
/// caller's typed file error instead of an escape from wherever the string is first read.
/// </summary>
internal static class JsonStringCheck
{
    /// <summary>A description of the first undecodable property name or string value, or null when all decode.</summary>
    public static string? FirstUndecodable(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    try { _ = property.Name; }
                    catch (InvalidOperationException) { return "a key holds an invalid \\u escape (a lone UTF-16 surrogate)"; }
                    if (FirstUndecodable(property.Value) is { } inner) return inner;
                }
                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    if (FirstUndecodable(item) is { } inner) return inner;
                return null;
            case JsonValueKind.String:
                try
                {
                    _ = element.GetString();
                    return null;
                }
                catch (InvalidOperationException)
                {
                    return $"the string {Raw(element, "value ")}holds an invalid \\u escape (a lone UTF-16 surrogate)";
                }
            default:
                return null;
        }
    }

    private static string Raw(JsonElement element, string prefix)
    {
        var raw = element.GetRawText();
        return prefix + (raw.Length <= 40 ? raw : raw[..40] + "…") + " ";
    }
}
