using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.Synthetic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Docs;

/// <summary>
/// Every C# snippet in README.md and docs/*.md is compiled against the library and run, on every test run. The
/// snippets of one document are joined in order into one top-level program (later snippets use the variables of earlier
/// ones), their <c>using</c> directives hoisted to the top and the library's namespaces imported implicitly, like an
/// app's global usings.
/// </summary>
/// <remarks>
/// <para>Compile: <see cref="Snippets_compile_against_the_library"/>, the snippets exactly as documented; errors name the
/// document and the line in the joined program.</para>
/// <para>Run: <see cref="Snippets_run_on_tiny_models"/>. The snippets use the relative paths a user would have
/// (<c>path/to/image_encoder</c>, <c>kandinsky-2-2-decoder</c>, <c>cat.jpg</c>, <c>images/evaluation</c>). The test does
/// not rewrite them: it creates each one in an empty temporary folder, from the document's entry in <see cref="Plans"/>,
/// and runs the compiled program in a child process (<see cref="SnippetHost"/>) with that folder as its working
/// directory, so whatever the program writes lands there; the folder is deleted afterwards (kept when the environment
/// variable DSL_DOC_KEEP is set, to debug a failure). The child runs libtorch with one thread (<see cref="SnippetHost"/>). Kandinsky placeholders are
/// tiny random-init folders in the real Hugging Face layout (<see cref="DocSandbox"/>); the API guide's
/// <c>path/to/…</c> are copies of the shipped shapes32 model. Every string literal in a snippet that looks like a path
/// must be an input of the plan or lie under one of its declared outputs, and every input must be used: a new
/// placeholder fails the test, naming itself, until it is added to the plan. A document with snippets but no plan fails
/// too; <see cref="NotRun"/> is the allow-list of documents that cannot run, with the reason (empty today).</para>
/// <para>Checks: the program must exit 0 within <see cref="TimeLimit"/>; each plan then appends test-owned statements
/// to the program (they see the snippets' variables: the API guide's decomposition sums to the final residual within
/// float32 rounding, an ablation changes the output, scores are finite) and inspects the files the snippets wrote. No
/// exact float comparison: libtorch may differ in the last bits across CPUs.</para>
/// <para>The shell command lines of the same documents are checked against the real CLI parsers by
/// <see cref="DocCommandLineTests"/>.</para>
/// </remarks>
public sealed class DocSnippetTests
{
    /// <summary>Wall-clock limit of one document's program (a loaded 2-core CI machine; they take seconds).</summary>
    public static readonly TimeSpan TimeLimit = TimeSpan.FromMinutes(4);

    private static readonly string[] ImplicitUsings =
    {
        "System", "System.IO", "System.Linq", "System.Collections.Generic", "System.Threading", "TorchSharp",
        "DiffusionSteeringLens.Analysis", "DiffusionSteeringLens.Decoding", "DiffusionSteeringLens.Experiments", "DiffusionSteeringLens.Hooks",
        "DiffusionSteeringLens.Imaging", "DiffusionSteeringLens.IO", "DiffusionSteeringLens.Lenses",
        "DiffusionSteeringLens.Models.Kandinsky", "DiffusionSteeringLens.Models.Vit", "DiffusionSteeringLens.Models.Vit.ClipVision",
        "DiffusionSteeringLens.Runtime", "DiffusionSteeringLens.Synthetic",
    };

    /// <summary>Documents whose snippets cannot run, with the reason. None: every document's snippets run.</summary>
    private static readonly Dictionary<string, string> NotRun = new(StringComparer.Ordinal);

    /// <summary>How each document's snippets run: what their paths are bound to, what they write, what is checked.</summary>
    private static readonly Dictionary<string, RunPlan> Plans = new(StringComparer.Ordinal)
    {
        ["README.md"] = new(
            Inputs: new()
            {
                // 1 layer × 2 heads: the snippet decodes all heads at the default 512 × 512, 50 steps.
                ["kandinsky-2-2-prior/image_encoder"] = p => DocSandbox.TinyKandinskyEncoder(p, layers: 1, heads: 2),
                ["kandinsky-2-2-prior/image_processor"] = DocSandbox.ImageProcessor,
                ["kandinsky-2-2-decoder"] = DocSandbox.TinyKandinskyDecoder,
                ["cat.jpg"] = p => DocSandbox.ShapeImage(p, seed: 1),
            },
            Outputs: new[] { "dsl/" },
            Epilogue: "",
            Check: work => AssertPictures(Path.Combine(work, "dsl"), new[] { "L0H0", "L0H1" }, size: 512)),

        ["docs/api-guide.md"] = new(
            Inputs: new()
            {
                ["path/to/image_encoder"] = p => DocSandbox.ShippedModelFolder(p, ShippedModels.Shapes32, "encoder"),
                ["path/to/image_processor"] = p => DocSandbox.ShippedModelFile(p, ShippedModels.Shapes32, "encoder/preprocessor_config.json"),
                ["path/to/decoder"] = p => DocSandbox.ShippedModelFolder(p, ShippedModels.Shapes32, "decoder"),
                ["photo.png"] = p => DocSandbox.ShapeImage(p, seed: 1),
                // Few images: §5's trajectory study scores 1,000 random ablation orders (most of the program's time).
                ["images/calibration"] = p => DocSandbox.ShapeImages(p, count: 2, seed: 101),
                ["images/evaluation"] = p => DocSandbox.ShapeImages(p, count: 3, seed: 102),
                ["images/reference"] = p => DocSandbox.ShapeImages(p, count: 2, seed: 103),
            },
            Outputs: new[] { "out/" },
            Epilogue: ApiGuideChecks,
            Check: work =>
            {
                // §4: all 16 heads of the 4 × 4 model at 32 × 32; §5: results.json with finite correlations.
                var heads = Enumerable.Range(0, 4).SelectMany(l => Enumerable.Range(0, 4).Select(h => $"0-L{l}H{h}")).ToArray();
                AssertPictures(Path.Combine(work, "out"), heads, size: 32);
                using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(work, "out", "results.json")));
                foreach (var name in new[] { "rho", "rhoContrast" })
                {
                    double rho = results.RootElement.GetProperty(name).GetProperty("rho").GetDouble();
                    Assert.True(rho is >= -1 and <= 1, $"results.json {name}.rho = {rho}");
                }
                Assert.True(results.RootElement.TryGetProperty("traj", out _), "results.json has no traj");
            }),

        ["docs/real-models.md"] = new(
            Inputs: new()
            {
                // ViT-bigG/14's 48 layers × 16 heads, so the snippet's L36H4 and L47H14 exist.
                ["kandinsky-2-2-prior/image_encoder"] = p => DocSandbox.TinyKandinskyEncoder(p, layers: 48, heads: 16),
                ["kandinsky-2-2-prior/image_processor"] = DocSandbox.ImageProcessor,
                ["kandinsky-2-2-decoder"] = DocSandbox.TinyKandinskyDecoder,
                ["cat.jpg"] = p => DocSandbox.ShapeImage(p, seed: 1),
            },
            Outputs: Array.Empty<string>(),   // {target}.png in the working folder
            Epilogue: "",
            Check: work => AssertPictures(work, new[] { "L36H4", "L47H14" }, size: 512)),

        ["docs/toy-model.md"] = new(
            Inputs: new(),   // ShippedShapesModel.Require() finds samples/models/shapes32 from the application's folder
            Outputs: Array.Empty<string>(),
            Epilogue: ToyModelChecks,
            Check: _ => { }),
    };

    // Appended to the API guide's program: the §2 decomposition sums to the final residual, as its comment says.
    private const string ApiGuideChecks = """
        {
            using var docScope = torch.NewDisposeScope();
            var a = encoder.Architecture;
            int componentCount = 1 + a.NumLayers * (a.NumHeads + 2);
            long batch = pixels.shape[0];
            DocCheck(heads.shape.SequenceEqual(new long[] { a.NumLayers, batch, 1, a.NumHeads, a.ModelDim }), "§2 StackedHeadResults is [L, B, 1, H, D]");
            DocCheck(parts.Components.shape.SequenceEqual(new long[] { componentCount, batch, 1, a.ModelDim }), "§2 Decompose is [C, B, 1, D]");
            // sum(dim: 0), not sum(0): a bare 0 binds to sum(ScalarType) and returns one scalar.
            DocCheck(total.shape.SequenceEqual(new long[] { batch, 1, a.ModelDim }), "§2 Σ components is [B, 1, D]");
            // The head components are the cached head results themselves (a permuted copy, so bit-equal).
            var layer1Heads = parts.Components.narrow(0, 1 + (a.NumHeads + 2), a.NumHeads);
            DocCheck(heads[1].permute(2, 0, 1, 3).allclose(layer1Heads, rtol: 0, atol: 0), "§2 layer-1 head components are the cached head results");
            // Σ components == final residual. float32 bound: the model sums the same terms along another path
            // (resid += attn_out, += mlp_out; attn_out from one fused matmul), the decomposition adds Σ_h result,
            // attn_out − Σ_h result and a C-term sum; each rounding moves a partial sum by ≤ u·(its size), and no partial
            // sum exceeds S = Σ_c |component_c|. Fewer than 2C roundings touch any element, so |Σ − final| ≤ 2C·u·S
            // elementwise with u = 2⁻²⁴ (first order).
            var final = run.Cache[HookNames.ResidPost(numLayers - 1)];
            var bound = parts.Components.abs().sum(dim: 0) * (2.0 * componentCount * Math.Pow(2, -24));
            double excess = ((total - final).abs() - bound).max().item<float>();
            Console.WriteLine($"§2: {componentCount} components, max |Σ − final| {(total - final).abs().max().item<float>():E2}");
            DocCheck(excess <= 0, $"§2 Σ components equals the final residual within 2C·u·Σ|c| (excess {excess:E2})");
            DocCheck(final.abs().max().item<float>() > 0.1, "§2 the final residual is not ~0 (else the check above is vacuous)");
            DocCheck(ablated.shape.SequenceEqual(run.Output.shape), "§2 the ablated run has the clean output's shape");
            DocCheck((ablated - run.Output).abs().max().item<float>() > 1e-4, "§2 the interventions change the output");
            // §3
            DocCheck(sweep.shape.SequenceEqual(new long[] { batch, a.NumLayers, a.OutputDim }), "§3 the layer sweep is [B, L, P]");
            DocCheck(dslHeads.shape.SequenceEqual(new long[] { batch, a.NumLayers * a.NumHeads, a.OutputDim }), "§3 all-heads DSL is [B, L·H, P]");
            DocCheck(!sweep.isnan().any().item<bool>() && !dslHeads.isnan().any().item<bool>(), "§3 lens embeddings are finite");
            // §5
            int headCount = a.NumLayers * a.NumHeads;
            DocCheck(dslScores.Length == 3 && dslScores.All(r => r.Length == headCount && r.All(double.IsFinite)), "§5 DSL scores are finite, [3][L·H]");
            DocCheck(contrastScores.All(r => r.Length == headCount && r.All(double.IsFinite)), "§5 contrast scores are finite");
            DocCheck(importance.Length == 3 && importance.All(r => r.Length == headCount && r.All(double.IsFinite)), "§5 ablation importance is finite, [3][L·H]");
            DocCheck(rho.Heads == headCount && double.IsFinite(rho.Rho) && rho.CiLow <= rho.CiHigh, "§5 head-level ρ is finite with an ordered CI");
            DocCheck(traj.Dsl.Similarity.All(double.IsFinite) && traj.RandomAucs.Count == 1000 && traj.EvaluationImages == 3, "§5 the trajectory study scored the DSL order against 1,000 random orders");
        }
        """;

    // Appended to the toy-model program: the trained model draws what it is shown.
    private const string ToyModelChecks = """
        {
            DocCheck(pictures.shape.SequenceEqual(new long[] { 8, 3, 32, 32 }), "pictures are [8, 3, 32, 32]");
            DocCheck(pictures.min().item<float>() >= 0 && pictures.max().item<float>() <= 1, "pictures are in [0, 1]");
            int matches = verdicts.Zip(attrs).Count(p => p.First.Matches(p.Second));
            Console.WriteLine($"toy model: {matches} of 8 decoded pictures have the input's shape and colour");
            DocCheck(verdicts.Count == 8 && matches >= 5, $"the decoder redraws the input's shape and colour on most pictures ({matches} of 8)");
        }
        """;

    // Declared after the epilogue: a failed check throws, the child exits 1 and the test shows the message.
    private const string CheckFunction = """
        static void DocCheck(bool ok, string what)
        {
            if (!ok) throw new Exception("doc check failed: " + what);
            Console.WriteLine("doc check: " + what);
        }
        """;

    private readonly ITestOutputHelper _out;

    public DocSnippetTests(ITestOutputHelper output) => _out = output;

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
        var source = JoinedProgram(document, epilogue: null);
        Compile(document, source);
    }

    [Theory, MemberData(nameof(Documents))]
    public void Snippets_run_on_tiny_models(string document)
    {
        if (NotRun.TryGetValue(document, out var reason))
        {
            _out.WriteLine($"{document}: not run ({reason})");
            return;
        }
        Assert.True(Plans.TryGetValue(document, out var plan),
            $"{document} has C# snippets but no run plan: add its placeholders to DocSnippetTests.Plans (or the document to NotRun, with the reason).");
        AssertPathsArePlanned(document, plan);

        var root = Path.Combine(Path.GetTempPath(), "dsl-doc-snippets", Guid.NewGuid().ToString("N"));
        var work = Path.Combine(root, "work");
        try
        {
            var clock = Stopwatch.StartNew();
            Directory.CreateDirectory(work);
            foreach (var (placeholder, create) in plan.Inputs)
            {
                var path = Path.Combine(work, placeholder);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                create(path);
            }
            var program = Path.Combine(root, $"snippets_{Path.GetFileNameWithoutExtension(document)}.dll");
            var source = JoinedProgram(document, plan.Epilogue);
            File.WriteAllBytes(program, Compile(document, source));
            var prepared = clock.Elapsed;

            var (exitCode, stdout, stderr, elapsed) = RunChild(program, work);
            _out.WriteLine($"{document}: inputs and compile {prepared.TotalSeconds:F1} s, program {elapsed.TotalSeconds:F1} s");
            _out.WriteLine(stdout);
            Assert.True(exitCode == 0, $"{document}: the snippets' program exited {exitCode}\n--- stderr ---\n{stderr}\n--- stdout ---\n{stdout}");
            plan.Check(work);
        }
        finally
        {
            if (Directory.Exists(root) && Environment.GetEnvironmentVariable("DSL_DOC_KEEP") is null) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>A snippet path that is not in its document's plan fails here, naming itself; so does an unused input.</summary>
    private static void AssertPathsArePlanned(string document, RunPlan plan)
    {
        var literals = PathLiterals(JoinedProgram(document, epilogue: null)).ToList();
        var unknown = literals.Where(l => !plan.Inputs.ContainsKey(l) && !plan.Outputs.Any(o => l.StartsWith(o, StringComparison.Ordinal))).Distinct().ToList();
        Assert.True(unknown.Count == 0, $"{document}: its snippets use paths the test does not bind: {string.Join(", ", unknown)}. " +
            "Add each to DocSnippetTests.Plans: an input (with the tiny folder or file it stands for) or an output prefix.");
        var unused = plan.Inputs.Keys.Where(k => !literals.Contains(k)).ToList();
        Assert.True(unused.Count == 0, $"{document}: the plan binds paths no snippet uses any more: {string.Join(", ", unused)}.");
    }

    /// <summary>
    /// The snippets' paths: string literals passed to a parameter named like a path (<c>path</c>, <c>folder</c>,
    /// <c>decoderFolder</c>, <c>folderOrFile</c>, …) or shaped like one (<c>a/b</c>, <c>name.ext</c>); of an interpolated
    /// string, its leading text (<c>$"out/{…}.png"</c> → <c>out/</c>).
    /// </summary>
    private static IEnumerable<string> PathLiterals(string source)
    {
        var tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest));
        var model = CSharpCompilation.Create("paths", new[] { tree }, References(),
            new CSharpCompilationOptions(OutputKind.ConsoleApplication)).GetSemanticModel(tree);
        foreach (var node in tree.GetRoot().DescendantNodes().OfType<ExpressionSyntax>())
        {
            string text;
            if (node is LiteralExpressionSyntax literal && literal.IsKind(SyntaxKind.StringLiteralExpression)) text = literal.Token.ValueText;
            else if (node is InterpolatedStringExpressionSyntax interpolated)
                text = interpolated.Contents.FirstOrDefault() is InterpolatedStringTextSyntax t ? t.TextToken.ValueText : "";
            else continue;
            var parameter = node.Parent is ArgumentSyntax argument && model.GetOperation(argument) is IArgumentOperation op ? op.Parameter?.Name ?? "" : "";
            bool pathParameter = Regex.IsMatch(parameter, "path|folder|file|dir", RegexOptions.IgnoreCase);
            bool pathShape = Regex.IsMatch(text, @"^[\w.\-]+(/[\w.\-]*)*$") && (text.Contains('/') || Regex.IsMatch(text, @"\.[A-Za-z]{2,4}$"));
            if (text.Length > 0 && (pathParameter || pathShape)) yield return text;
        }
    }

    private static (int ExitCode, string Out, string Error, TimeSpan Elapsed) RunChild(string program, string workingDirectory)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, typeof(SnippetHost).Assembly.GetName().Name + ".dll"));
        info.ArgumentList.Add(SnippetHost.RunSnippet);
        info.ArgumentList.Add(program);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeLimit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"{Path.GetFileName(program)} did not finish within {TimeLimit.TotalMinutes} min\n--- stdout ---\n{stdout.Result}\n--- stderr ---\n{stderr.Result}");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }

    /// <summary>Exactly the named pictures (FILE.png), each a decodable square PNG of the given size.</summary>
    private static void AssertPictures(string folder, string[] names, int size)
    {
        Assert.True(Directory.Exists(folder), $"no folder {folder}");
        var got = Directory.GetFiles(folder, "*.png").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(names.Order(StringComparer.Ordinal).ToArray(), got);
        foreach (var name in names)
        {
            using var rgb = ImageIO.LoadRgb(Path.Combine(folder, name + ".png"));
            Assert.Equal(new long[] { size, size, 3 }, rgb.shape);
        }
    }

    /// <summary>The document's snippets as one program; <paramref name="epilogue"/> (test checks) is appended after them.</summary>
    private static string JoinedProgram(string document, string? epilogue)
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
        if (!string.IsNullOrEmpty(epilogue)) body.Add("// --- test checks ---\n" + epilogue + "\n" + CheckFunction);
        return string.Join("\n", directives.Distinct()) + "\n" + string.Join("\n", body);
    }

    private static byte[] Compile(string document, string source)
    {
        var tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest));
        var compilation = CSharpCompilation.Create($"snippets_{Path.GetFileNameWithoutExtension(document).Replace('-', '_')}", new[] { tree }, References(),
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var pe = new MemoryStream();
        var result = compilation.Emit(pe);
        var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
        Assert.True(errors.Count == 0, $"{document}: {errors.Count} compile errors in its snippets:\n{string.Join("\n", errors)}\n--- joined program ---\n{source}");
        return pe.ToArray();
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

    /// <param name="Inputs">Placeholder path (relative, as the snippet writes it) → writes what it stands for at the given absolute path.</param>
    /// <param name="Outputs">Path prefixes the snippets write under.</param>
    /// <param name="Epilogue">C# statements appended to the program (they see the snippets' variables; <c>DocCheck(ok, what)</c> throws).</param>
    /// <param name="Check">Inspects the working folder after the program exited 0.</param>
    private sealed record RunPlan(Dictionary<string, Action<string>> Inputs, string[] Outputs, string Epilogue, Action<string> Check);
}
