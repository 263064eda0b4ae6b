using System.Globalization;
using System.Reflection;
using DiffusionSteeringLens.Runtime;

namespace DiffusionSteeringLens.Cli;

/// <summary>
/// What a reader needs to cite or repeat a run: the library and tool versions, the exact command line and every
/// setting the run used (defaults included). Written at the top of results.json and into the report's Run table.
/// </summary>
internal sealed record RunProvenance(string LibraryVersion, string ToolVersion, string CommandLine, IReadOnlyDictionary<string, string> Settings)
{
    public static RunProvenance Capture(IReadOnlyList<string> arguments, RunSettings settings) => new(
        LibraryAssemblyVersion(), Version(typeof(RunProvenance).Assembly), CommandLineText(arguments), SettingsOf(settings));

    /// <summary>Provenance of a command without model settings (e.g. <c>merge</c>): versions, command line, the given settings.</summary>
    public static RunProvenance Capture(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> settings) => new(
        LibraryAssemblyVersion(), Version(typeof(RunProvenance).Assembly), CommandLineText(arguments), settings);

    /// <summary>The command line as a POSIX shell would take it back: arguments with spaces or quotes are single-quoted.</summary>
    internal static string CommandLineText(IReadOnlyList<string> arguments) =>
        string.Join(" ", new[] { "dsl" }.Concat(arguments.Select(Quote)));

    /// <summary>Report rows: library, tool, command line, then each setting.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Rows() =>
        new[] { KeyValuePair.Create("library", $"DiffusionSteeringLens {LibraryVersion}"), KeyValuePair.Create("tool", $"dsl {ToolVersion}"),
                KeyValuePair.Create("command line", CommandLine) }
            .Concat(Settings.Select(kv => KeyValuePair.Create("setting " + kv.Key, kv.Value))).ToList();

    private static string Quote(string a) =>
        a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || "-_./:=,+@%".Contains(c)) ? a : "'" + a.Replace("'", "'\\''") + "'";

    // The core package's version; the studies package is built from the same repository at the same version.
    private static string LibraryAssemblyVersion() => Version(typeof(TorchNativeLoader).Assembly);

    private static string Version(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? assembly.GetName().Version?.ToString() ?? "unknown";

    // Every bound setting, by its option name, so a run can be repeated even where defaults were used.
    private static IReadOnlyDictionary<string, string> SettingsOf(RunSettings s)
    {
        var all = CommonSettingsOf(s);
        foreach (var (key, value) in s.CommandSettings) all[key] = value;
        return all;
    }

    private static SortedDictionary<string, string> CommonSettingsOf(RunSettings s) => new(StringComparer.Ordinal)
    {
        ["encoder"] = s.Encoder ?? "(shipped model)",
        ["decoder"] = s.NoDecode ? "(none: --no-decode)" : s.Decoder ?? "(shipped decoder with the shipped encoder)",
        ["image"] = s.Image ?? (s.Pixels is null ? "(built-in)" : "-"),
        ["pixels"] = s.Pixels ?? "-",
        ["out"] = Path.GetFullPath(s.Out),
        ["seed"] = s.Seed.ToString(CultureInfo.InvariantCulture),
        ["steps"] = s.Steps.ToString(CultureInfo.InvariantCulture),
        ["guidance"] = s.Guidance.ToString("R", CultureInfo.InvariantCulture),
        ["size"] = s.Size?.ToString(CultureInfo.InvariantCulture) ?? "(encoder input size)",
        ["batch-size"] = s.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["denoise-batch"] = s.DenoiseBatch.ToString(CultureInfo.InvariantCulture),
        ["device"] = s.Device.ToString(),
        ["dtype"] = s.DType.ToString(),
        ["resume"] = s.Resume ? "true" : "false",
        ["steer"] = s.Steering.ToString() ?? "",
        ["top-k"] = s.TopK.ToString(CultureInfo.InvariantCulture),
        ["threads"] = s.Threads.ToString(CultureInfo.InvariantCulture),
    };
}
