using DiffusionSteeringLens.IO;

namespace DiffusionSteeringLens.Tests.TestSupport;

/// <summary>Locates fixtures copied into the test output (tests never read ../shared at run time).</summary>
public static class Fixtures
{
    /// <summary>Environment variable naming an extra folder with the golden layout (component sub-folders).</summary>
    public const string ExtraFixturesVariable = "DSL_EXTRA_FIXTURES";

    /// <summary>Root of the copied fixtures.</summary>
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    /// <summary>The built-in golden folder of one component (clip_vision, unet, movq, scheduler, pipeline, manifests).</summary>
    public static string Golden(string component) => Path.Combine(Root, "golden", component);

    /// <summary>A fresh temporary folder for one test.</summary>
    public static string TempFolder()
    {
        var dir = Path.Combine(Path.GetTempPath(), "dsl-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>
    /// Golden cases of a component as xunit theory rows <c>(GoldenCase)</c>: every case found in the built-in fixtures
    /// and, when <see cref="ExtraFixturesVariable"/> is set, every case found under that folder's component sub-folder.
    /// An extra folder without cases for the component yields one row that fails.
    /// </summary>
    /// <param name="component">Sub-folder name.</param>
    /// <param name="caseNames">Discovers case names from the component's <c>cases.safetensors</c>.</param>
    public static IEnumerable<object[]> Cases(string component, Func<SafetensorsFile, IEnumerable<string>> caseNames)
    {
        foreach (var c in Discover("builtin", Golden(component), caseNames)) yield return new object[] { c };
        var extra = Environment.GetEnvironmentVariable(ExtraFixturesVariable);
        if (string.IsNullOrWhiteSpace(extra)) yield break;
        var folder = Path.Combine(extra, component);
        var found = File.Exists(Path.Combine(folder, "cases.safetensors"))
            ? Discover("extra", folder, caseNames).ToList()
            : new List<GoldenCase>();
        if (found.Count == 0) yield return new object[] { new GoldenCase("extra", folder, GoldenCase.NoCases) };
        foreach (var c in found) yield return new object[] { c };
    }

    /// <summary>Case prefixes like <c>case0</c> in names such as <c>case0.sample</c>.</summary>
    public static IEnumerable<string> PrefixCases(SafetensorsFile f, string pattern = @"^(case\d+)\.") =>
        f.Names.Select(n => System.Text.RegularExpressions.Regex.Match(n, pattern))
            .Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().OrderBy(s => s, StringComparer.Ordinal);

    private static IEnumerable<GoldenCase> Discover(string source, string folder, Func<SafetensorsFile, IEnumerable<string>> caseNames)
    {
        using var f = SafetensorsFile.Open(Path.Combine(folder, "cases.safetensors"));
        return caseNames(f).Select(n => new GoldenCase(source, folder, n)).ToList();
    }
}

/// <summary>One golden case: where it lives and its name (a tensor-name prefix or a label).</summary>
public sealed record GoldenCase(string Source, string Folder, string Name)
{
    /// <summary>Marker name for "the extra folder had no cases for this component".</summary>
    public const string NoCases = "<no cases>";

    /// <summary>Fails the test when this row stands for an empty extra folder.</summary>
    public void EnsurePresent()
    {
        if (Name == NoCases) Assert.Fail($"{Fixtures.ExtraFixturesVariable} folder {Folder} has no cases for this component.");
    }

    /// <summary>The case file of this case's folder.</summary>
    public SafetensorsFile OpenCases() => SafetensorsFile.Open(Path.Combine(Folder, "cases.safetensors"));

    /// <inheritdoc />
    public override string ToString() => $"{Source}:{Name}";
}
