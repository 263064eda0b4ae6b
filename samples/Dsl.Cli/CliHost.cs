using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Cli;

/// <summary>
/// Where a CLI run gets its environment: output writers, whether live progress may be drawn, and test seams (a
/// stand-in renderer instead of a decoder, a progress observer that can e.g. cancel after k results).
/// </summary>
internal sealed class CliHost
{
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }

    /// <summary>Draw Spectre live bars (only for a real, non-redirected terminal).</summary>
    public bool LiveProgress { get; init; }

    /// <summary>Test seam: renders embeddings without loading a decoder (the string is the decoder description).</summary>
    public Func<IHookedVit, (EmbeddingRenderer Renderer, string Description)>? RendererOverride { get; init; }

    /// <summary>Test seam: sees every progress report (on the worker thread).</summary>
    public Action<LensProgress>? ProgressObserver { get; init; }

    /// <summary>Bytes of memory available for a decode (test seam; the memory guard compares its estimate with this).</summary>
    public Func<long> MemoryProbe { get; init; } = AvailableMemory.Bytes;

    /// <summary>The arguments the tool was started with, as typed (recorded in results.json and report.html).</summary>
    public IReadOnlyList<string> Arguments { get; set; } = Array.Empty<string>();

    /// <summary>Where long libtorch work runs: the program's first thread for the tool, the thread pool in-process.</summary>
    public ComputeThread Compute { get; init; } = ComputeThread.Pool;

    /// <summary>Folder the shipped model is looked for in (<c>models/shapes32</c> under it).</summary>
    public string BaseDirectory { get; init; } = AppContext.BaseDirectory;
}
