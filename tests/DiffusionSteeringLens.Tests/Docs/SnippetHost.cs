using System.Reflection;
using System.Runtime.Loader;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Docs;

/// <summary>
/// The test assembly's entry point (the project sets <c>GenerateProgramFile</c> to false; VSTest never calls it).
/// <c>dotnet DiffusionSteeringLens.Tests.dll run-snippet PROGRAM.dll</c> runs a documentation snippet program that
/// <see cref="DocSnippetTests"/> compiled, in a child process whose working directory is the snippet's sandbox: the
/// program resolves the library, TorchSharp and libtorch through this assembly's dependencies, and the module initializer
/// of this assembly has opted in to the native-load fix, as an application built with the package does. libtorch runs
/// with one thread (see <see cref="Main"/>).
/// </summary>
public static class SnippetHost
{
    /// <summary>The argument that selects the snippet runner.</summary>
    public const string RunSnippet = "run-snippet";

    /// <summary>Runs <c>args[1]</c>'s entry point; 0 when it returns, 1 with the exception on stderr when it throws.</summary>
    public static int Main(string[] args)
    {
        if (args.Length != 2 || args[0] != RunSnippet)
        {
            Console.Error.WriteLine($"usage: dotnet DiffusionSteeringLens.Tests.dll {RunSnippet} PROGRAM.dll (the tests run under dotnet test)");
            return 2;
        }
        // One libtorch thread: the programs are small, and on a shared CI machine two OpenMP threads that spin-wait for
        // each other made a 7 s program take 90 s (measured on the project machine under load).
        torch.set_num_threads(1);
        var program = AssemblyLoadContext.Default.LoadFromAssemblyPath(Path.GetFullPath(args[1]));
        var main = program.EntryPoint ?? throw new InvalidOperationException($"{args[1]} has no entry point.");
        try
        {
            var result = main.Invoke(null, main.GetParameters().Length == 0 ? null : new object[] { Array.Empty<string>() });
            if (result is Task task) task.GetAwaiter().GetResult();
        }
        catch (TargetInvocationException e) when (e.InnerException is { } inner)
        {
            Console.Error.WriteLine(inner);
            return 1;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine(e);
            return 1;
        }
        Console.Out.Flush();
        return 0;
    }
}
