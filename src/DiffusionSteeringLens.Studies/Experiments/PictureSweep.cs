using DiffusionSteeringLens.Lenses;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// The studies' picture seam: renders labelled embeddings through an <see cref="EmbeddingRenderer"/> into a PNG
/// <see cref="PictureStore.InFolder">folder store</see>, writing each result as soon as its batch completes, so that a
/// long, interrupted sweep can be resumed without redoing finished pictures. A thin composition of the core's resumable
/// render loop (the one behind <see cref="LensRenderer.RenderSweep"/>) and the folder store; the renderer is normally
/// <see cref="LensRenderer.Decode"/> with fixed settings (the <c>dsl</c> tool), or a stand-in in tests.
/// </summary>
/// <remarks>
/// Layout: <c>{folder}/{sweep}/{label}.png</c> + <c>{label}.json</c> (label, fingerprint) and
/// <c>{folder}/{sweep}/manifest.json</c> (finished labels). Every file is written atomically (temporary file, then
/// rename). On resume a label counts as finished only when the manifest lists it, both files exist and the stored
/// fingerprint (SHA-256 of the embedding's float32 bytes and <see cref="SettingsKey"/>) matches — so changed inputs or
/// decode settings are re-rendered instead of silently reused. Returned pictures are always read back from the PNGs,
/// so a resumed sweep yields exactly the same tensors (and scores) as an uninterrupted one.
/// </remarks>
public sealed class PictureSweep
{
    private readonly EmbeddingRenderer _renderer;
    private readonly FolderPictureStore _store;
    private readonly ILogger _logger;
    private readonly LensRenderer.SweepCounts _counts = new();

    /// <summary>Creates a sweep writer.</summary>
    /// <param name="folder">Root output folder (created when needed).</param>
    /// <param name="renderer">Embeddings → pictures.</param>
    /// <param name="settingsKey">Everything besides the embedding that determines a picture (decoder, steps, seed…).</param>
    /// <param name="batchSize">Embeddings rendered per renderer call (≥ 1); results are saved after each call.</param>
    /// <param name="resume">Skip finished labels instead of re-rendering them.</param>
    /// <param name="logger">Optional logger.</param>
    public PictureSweep(string folder, EmbeddingRenderer renderer, string settingsKey, int batchSize = 4, bool resume = false,
        ILogger<PictureSweep>? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _store = new FolderPictureStore(folder, resume);
        _renderer = renderer ?? throw new ArgumentNullException(nameof(renderer));
        SettingsKey = settingsKey ?? "";
        BatchSize = batchSize;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Root output folder.</summary>
    public string Folder => _store.Folder;

    /// <summary>Settings that, with the embedding, determine a picture.</summary>
    public string SettingsKey { get; }

    /// <summary>Embeddings per renderer call.</summary>
    public int BatchSize { get; }

    /// <summary>Whether finished labels are skipped.</summary>
    public bool Resume => _store.Resume;

    /// <summary>Pictures rendered (not reused) so far by this instance.</summary>
    public int RenderedCount => _counts.Rendered;

    /// <summary>Pictures reused from a previous run so far by this instance.</summary>
    public int ReusedCount => _counts.Reused;

    /// <summary>Folder of one sweep's files.</summary>
    public string SweepFolder(string sweep) => _store.SweepFolder(sweep);

    /// <summary>Path of one label's PNG.</summary>
    public string PicturePath(string sweep, string label) => _store.PicturePath(sweep, label);

    /// <summary>
    /// Renders (or reuses) one picture per label and returns them all, [N, 3, H, W] in [0, 1] as read back from the PNGs.
    /// </summary>
    /// <param name="sweep">Sweep name (a sub-folder).</param>
    /// <param name="labels">One label per embedding row (unique).</param>
    /// <param name="embeddings">[N, P] embeddings.</param>
    /// <param name="progress">Reports after each saved batch.</param>
    /// <param name="cancellationToken">Checked before each batch; finished batches stay on disk.</param>
    public torch.Tensor Run(string sweep, IReadOnlyList<string> labels, torch.Tensor embeddings,
        IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        return LensRenderer.RunSweep(_store, sweep, labels, embeddings, (batch, ct) => _renderer(batch, ct), SettingsKey, BatchSize,
            _logger, _counts, progress, cancellationToken);
    }

    /// <summary>
    /// <see cref="Run"/> over several sweeps at once: their pictures still to render share the <see cref="BatchSize"/>-picture
    /// decoder calls (a DSL and a DL sweep of the same targets go to the decoder together, which a batching decoder —
    /// <c>KandinskyDecodeOptions.PicturesPerBatch</c> — denoises as one batch); each picture is stored in its own sweep.
    /// Returns every sweep's pictures in the order given; the caller owns them.
    /// </summary>
    /// <param name="sweeps">Per sweep: its name (unique), one label per embedding row, and the [N, P] embeddings.</param>
    /// <param name="progress">Reports after each saved batch.</param>
    /// <param name="cancellationToken">Checked before each batch; finished batches stay on disk.</param>
    internal torch.Tensor[] RunMany(IReadOnlyList<(string Sweep, IReadOnlyList<string> Labels, torch.Tensor Embeddings)> sweeps,
        IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sweeps);
        return LensRenderer.RunSweeps(_store, sweeps.Select(s => new LensRenderer.SweepPart(s.Sweep, s.Labels, s.Embeddings)).ToArray(),
            (batch, ct) => _renderer(batch, ct), SettingsKey, BatchSize, _logger, _counts, progress, cancellationToken);
    }

    /// <summary>A label as a file name: characters outside [A-Za-z0-9._-] become '_' (e.g. <c>mlp:3</c> → <c>mlp_3</c>).</summary>
    public static string Safe(string label) => FolderPictureStore.Safe(label);
}
