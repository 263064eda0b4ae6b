using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace DiffusionSteeringLens.Tests.Docs;

/// <summary>
/// Every C# snippet in README.md and docs/*.md compiles against the library as it is: the snippets of one file are
/// joined in order into one top-level program (later snippets use the variables of earlier ones), their <c>using</c>
/// directives hoisted to the top. Compile errors name the file and the line in the joined program.
/// </summary>
/// <remarks>
/// What this does not check: that a snippet runs. Most snippets load real Kandinsky 2.2 folders (placeholders such as
/// <c>path/to/image_encoder</c>) that no test machine has; the toy-model snippet's calls are run by the shipped-model tests.
/// The library's namespaces are imported implicitly, like an app's global usings.
/// </remarks>
public sealed class DocSnippetTests
{
    private static readonly string[] ImplicitUsings =
    {
        "System", "System.IO", "System.Linq", "System.Collections.Generic", "System.Threading", "TorchSharp",
        "DiffusionSteeringLens.Analysis", "DiffusionSteeringLens.Decoding", "DiffusionSteeringLens.Experiments", "DiffusionSteeringLens.Hooks",
        "DiffusionSteeringLens.Imaging", "DiffusionSteeringLens.IO", "DiffusionSteeringLens.Lenses",
        "DiffusionSteeringLens.Models.Kandinsky", "DiffusionSteeringLens.Models.Vit", "DiffusionSteeringLens.Models.Vit.ClipVision",
        "DiffusionSteeringLens.Runtime", "DiffusionSteeringLens.Synthetic",
    };

    public static IEnumerable<object[]> Documents()
    {
        var root = RepositoryRoot();
        yield return new object[] { "README.md" };
        foreach (var f in Directory.GetFiles(Path.Combine(root, "docs"), "*.md").OrderBy(f => f, StringComparer.Ordinal))
            if (Snippets(File.ReadAllText(f)).Count > 0)
                yield return new object[] { Path.GetRelativePath(root, f).Replace('\\', '/') };
    }

    [Theory, MemberData(nameof(Documents))]
    public void Snippets_compile_against_the_library(string document)
    {
        var snippets = Snippets(File.ReadAllText(Path.Combine(RepositoryRoot(), document)));
        Assert.NotEmpty(snippets);
        var directives = new List<string>(ImplicitUsings.Select(u => $"using {u};"));
        var body = new List<string>();
        foreach (var line in snippets.SelectMany(s => s.Split('\n')))
        {
            var t = line.TrimEnd('\r');
            if (Regex.IsMatch(t, @"^using [A-Za-z_][\w.]*;\s*$")) directives.Add(t.Trim());
            else body.Add(t);
        }
        var source = string.Join("\n", directives.Distinct()) + "\n" + string.Join("\n", body);
        var tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest));
        var compilation = CSharpCompilation.Create($"snippets_{Path.GetFileNameWithoutExtension(document)}", new[] { tree }, References(),
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var pe = new MemoryStream();
        var result = compilation.Emit(pe);
        var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
        Assert.True(errors.Count == 0, $"{document}: {errors.Count} compile errors in its snippets:\n{string.Join("\n", errors)}\n--- joined program ---\n{source}");
    }

    private static List<string> Snippets(string markdown) =>
        Regex.Matches(markdown, @"```csharp\r?\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();

    private static IEnumerable<MetadataReference> References()
    {
        // The library and its dependencies are loaded by the test run; the framework comes from the trusted platform list.
        _ = typeof(DiffusionSteeringLens.Lenses.SteeringLens).Assembly;
        _ = typeof(TorchSharp.torch).Assembly;
        _ = typeof(DiffusionSteeringLens.Experiments.LensStudy).Assembly;  // the studies package (Experiments, Reports)
        _ = typeof(DiffusionSteeringLens.Synthetic.ShapeDomain).Assembly;   // the toy domains' package (docs/toy-model.md)
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "").Split(Path.PathSeparator))
            if (p.Length > 0) paths.Add(p);
        foreach (var a in AppDomain.CurrentDomain.GetAssemblies())
            if (!a.IsDynamic && a.Location.Length > 0) paths.Add(a.Location);
        foreach (var dll in new[] { "DiffusionSteeringLens.dll", "DiffusionSteeringLens.Studies.dll", "DiffusionSteeringLens.Synthetic.dll", "TorchSharp.dll", "Microsoft.Extensions.Logging.Abstractions.dll" })
        {
            var p = Path.Combine(AppContext.BaseDirectory, dll);
            if (File.Exists(p)) paths.Add(p);
        }
        return paths.Select(p => MetadataReference.CreateFromFile(p));
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DiffusionSteeringLens.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("repository root (DiffusionSteeringLens.sln) not found above " + AppContext.BaseDirectory);
    }
}
