using System.Text;
using System.Text.RegularExpressions;
using DiffusionSteeringLens.Cli;
using DiffusionSteeringLens.Train;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Docs;

/// <summary>
/// Every <c>dsl</c> and <c>dsl-train</c> command line in the shell blocks (<c>```bash</c>, <c>```sh</c>) of README.md
/// and docs/*.md — typed directly, through <c>dotnet run --project samples/Dsl.Cli|Dsl.Train … -- ARGS</c>, or quoted
/// inside another command (<c>sbatch --wrap '…'</c>, a <c>```yaml</c> job's <c>sh -c "…"</c>) — parses against the
/// tool's real parser: <see cref="DslCli.Parse"/> (the System.CommandLine tree: the subcommand and every option exist,
/// required options are present, values have the option's type) and <see cref="TrainOptions.Parse"/> (every option is
/// known and its value parses; the phases are ones the trainer runs). Nothing runs: placeholder arguments (OUT, DIR,
/// /models/clip) are never opened. Shell variables get the example values of <see cref="Variables"/>.
/// </summary>
/// <remarks>
/// No silent skips: every other line of a shell block must start with a command of <see cref="OtherCommands"/>, each
/// with what is (or is not) checked about it, or the test fails naming the line.
/// </remarks>
public sealed class DocCommandLineTests
{
    /// <summary>Example values of the shell variables documented lines use (parsing needs some value).</summary>
    private static readonly Dictionary<string, string> Variables = new(StringComparer.Ordinal)
    {
        ["SLURM_ARRAY_TASK_ID"] = "0", ["JOB_COMPLETION_INDEX"] = "0",
    };

    /// <summary>Starts of shell lines that are not dsl / dsl-train invocations, and what the test checks about them.</summary>
    private static readonly (string Start, string Checked)[] OtherCommands =
    {
        ("dotnet test ", "the project folder exists"),
        ("dotnet pack ", "the project folder exists"),
        ("dotnet tool install ", "not checked: installs the packed tool"),
        ("dotnet nuget add source ", "not checked: registers a local feed"),
        ("sbatch ", "not checked: Slurm (its quoted dsl command is checked)"),
        ("jid=$(sbatch ", "not checked: Slurm"),
        ("for package in ", "not checked: architecture.md's public-type count (PublicSurfaceTests checks the counts)"),
        ("echo ", "not checked: part of the loop above"),
        ("done", "not checked: end of the loop above"),
        ("samples/Dsl.Train/reproduce.sh", "the script exists; not run (hours of training); its dsl-train lines are not parsed here"),
    };

    /// <summary>The dsl-train phases (samples/Dsl.Train/Program.cs).</summary>
    private static readonly string[] TrainPhases = { "encoder", "decoder", "distil", "decoder-finetune", "marked-images", "evaluate" };

    private readonly ITestOutputHelper _out;

    public DocCommandLineTests(ITestOutputHelper output) => _out = output;

    public static IEnumerable<object[]> CommandLines() =>
        Documents().SelectMany(ShellLines).SelectMany(Invocations)
            .Select(i => new object[] { i.Document, i.Line, i.Tool, string.Join(" ", i.Arguments.Select(Quote)) });

    [Theory, MemberData(nameof(CommandLines))]
    public void Documented_command_line_parses(string document, int line, string tool, string arguments)
    {
        var args = Words(arguments);
        string where = $"{document}:{line}: {tool} {arguments}";
        if (tool == "dsl")
        {
            using var output = new StringWriter();
            var parse = DslCli.Parse(args.ToArray(), new CliHost { Out = output, Error = output });
            Assert.True(parse.Errors.Count == 0, $"{where}\n  does not parse: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
            Assert.True(parse.CommandResult.Command is not System.CommandLine.RootCommand, $"{where}\n  names no subcommand");
            _out.WriteLine($"dsl {parse.CommandResult.Command.Name}: ok");
        }
        else
        {
            Assert.Equal("dsl-train", tool);
            TrainOptions options;
            try { options = TrainOptions.Parse(args.ToArray()); }
            catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
            {
                throw new Xunit.Sdk.XunitException($"{where}\n  does not parse: {e.Message}");
            }
            var unknown = options.Phases.Except(TrainPhases).ToList();
            Assert.True(unknown.Count == 0, $"{where}\n  unknown phases: {string.Join(", ", unknown)}");
        }
    }

    [Fact]
    public void Every_shell_line_is_a_checked_command_or_a_listed_other_command()
    {
        var root = DocSnippetTests.RepositoryRoot();
        var unclassified = new List<string>();
        int invocations = 0;
        foreach (var line in Documents().SelectMany(ShellLines))
        {
            var found = Invocations(line).Count();
            invocations += found;
            var text = StripComment(line.Text).Trim();
            if (found > 0 || text.Length == 0 || line.Language == "yaml") continue;
            var other = OtherCommands.FirstOrDefault(c => text.StartsWith(c.Start, StringComparison.Ordinal));
            if (other.Start is null)
            {
                unclassified.Add($"{line.Document}:{line.Line}: {text}");
                continue;
            }
            if (other.Start is "dotnet test " or "dotnet pack ")
            {
                var project = text.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];
                Assert.True(Directory.Exists(Path.Combine(root, project)), $"{line.Document}:{line.Line}: no project folder {project}");
            }
            if (other.Start.EndsWith(".sh", StringComparison.Ordinal))
                Assert.True(File.Exists(Path.Combine(root, other.Start)), $"{line.Document}:{line.Line}: no script {other.Start}");
            _out.WriteLine($"{line.Document}:{line.Line}: {other.Checked}: {text}");
        }
        Assert.True(unclassified.Count == 0, "shell lines that are neither a dsl / dsl-train command nor listed in DocCommandLineTests.OtherCommands:\n" +
            string.Join("\n", unclassified));
        Assert.True(invocations >= 10, $"only {invocations} documented dsl / dsl-train command lines found: has the extraction broken?");
    }

    private static IEnumerable<string> Documents()
    {
        var root = DocSnippetTests.RepositoryRoot();
        yield return "README.md";
        foreach (var f in Directory.GetFiles(Path.Combine(root, "docs"), "*.md").OrderBy(f => f, StringComparer.Ordinal))
            yield return Path.GetRelativePath(root, f).Replace('\\', '/');
    }

    private sealed record ShellLine(string Document, int Line, string Language, string Text);

    private sealed record Invocation(string Document, int Line, string Tool, IReadOnlyList<string> Arguments);

    /// <summary>Lines of the shell and YAML blocks, continuation lines (<c>\</c> at the end) joined.</summary>
    private static IEnumerable<ShellLine> ShellLines(string document)
    {
        var markdown = File.ReadAllText(Path.Combine(DocSnippetTests.RepositoryRoot(), document)).Replace("\r\n", "\n");
        foreach (Match block in Regex.Matches(markdown, @"^```(bash|sh|shell|yaml)\n(.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline))
        {
            int line = markdown[..block.Index].Count(c => c == '\n') + 2;
            var pending = new StringBuilder();
            int start = line;
            foreach (var raw in block.Groups[2].Value.TrimEnd('\n').Split('\n'))
            {
                if (pending.Length == 0) start = line;
                line++;
                if (raw.EndsWith('\\'))
                {
                    pending.Append(raw[..^1]).Append(' ');
                    continue;
                }
                pending.Append(raw);
                yield return new ShellLine(document, start, block.Groups[1].Value, pending.ToString());
                pending.Clear();
            }
        }
    }

    /// <summary>The dsl / dsl-train invocations of one line.</summary>
    private static IEnumerable<Invocation> Invocations(ShellLine line)
    {
        var text = StripComment(line.Text).Trim();
        Invocation Make(string tool, IEnumerable<string> args) => new(line.Document, line.Line, tool, args.ToList());
        if (line.Language != "yaml")
        {
            if (text == "dsl" || text.StartsWith("dsl ", StringComparison.Ordinal)) { yield return Make("dsl", Words(text).Skip(1)); yield break; }
            if (text.StartsWith("dsl-train ", StringComparison.Ordinal)) { yield return Make("dsl-train", Words(text).Skip(1)); yield break; }
            if (text.StartsWith("dotnet run ", StringComparison.Ordinal))
            {
                var words = Words(text);
                int separator = words.IndexOf("--");
                var runOptions = separator < 0 ? words : words.Take(separator).ToList();
                int p = runOptions.IndexOf("--project");
                Assert.True(p > 0 && p + 1 < runOptions.Count, $"{line.Document}:{line.Line}: dotnet run without --project: {text}");
                var tool = runOptions[p + 1].TrimEnd('/') switch
                {
                    "samples/Dsl.Cli" => "dsl",
                    "samples/Dsl.Train" => "dsl-train",
                    var other => throw new Xunit.Sdk.XunitException($"{line.Document}:{line.Line}: dotnet run of an unknown project {other}"),
                };
                yield return Make(tool, separator < 0 ? Enumerable.Empty<string>() : words.Skip(separator + 1));
                yield break;
            }
        }
        // A dsl command quoted inside another one: sbatch --wrap 'dsl …', a container's ["sh", "-c", "dsl …"].
        foreach (Match quoted in Regex.Matches(text, @"'(dsl\s[^']*)'|""(dsl\s[^""]*)"""))
            yield return Make("dsl", Words(quoted.Groups[1].Success ? quoted.Groups[1].Value : quoted.Groups[2].Value).Skip(1));
    }

    /// <summary>The line up to an unquoted <c>#</c> that starts a word (a shell comment).</summary>
    private static string StripComment(string line)
    {
        char quote = '\0';
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quote != '\0') { if (c == quote) quote = '\0'; }
            else if (c is '\'' or '"') quote = c;
            else if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1]))) return line[..i];
        }
        return line;
    }

    /// <summary>
    /// Shell words of a simple command: quotes removed, <c>$VAR</c> / <c>${VAR}</c> replaced from <see cref="Variables"/>
    /// (outside single quotes); an unknown variable, a pipe, redirection or command substitution fails the test.
    /// </summary>
    private static List<string> Words(string command)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        for (int i = 0; i < command.Length; i++)
        {
            char c = command[i];
            if (quote == '\'')
            {
                if (c == '\'') quote = '\0'; else word.Append(c);
                continue;
            }
            if (c == '$')
            {
                var m = Regex.Match(command[i..], @"^\$(?:\{(\w+)\}|(\w+))");
                Assert.True(m.Success, $"not a simple command (command substitution?): {command}");
                var name = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
                Assert.True(Variables.TryGetValue(name, out var value), $"shell variable ${name} has no example value in DocCommandLineTests.Variables: {command}");
                word.Append(value);
                inWord = true;
                i += m.Length - 1;
                continue;
            }
            if (quote == '"')
            {
                if (c == '"') quote = '\0'; else word.Append(c);
                continue;
            }
            if (c is '\'' or '"') { quote = c; inWord = true; continue; }
            if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
                continue;
            }
            Assert.False(c is '|' or ';' or '&' or '<' or '>' or '`' or '(' or ')', $"not a simple command ('{c}'): {command}");
            word.Append(c);
            inWord = true;
        }
        Assert.True(quote == '\0', $"unbalanced quote: {command}");
        if (inWord) words.Add(word.ToString());
        return words;
    }

    private static string Quote(string word) => word.Length > 0 && word.All(c => !char.IsWhiteSpace(c) && c is not ('\'' or '"' or '$')) ? word : "'" + word + "'";
}
