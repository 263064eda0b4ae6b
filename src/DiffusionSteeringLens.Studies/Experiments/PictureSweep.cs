using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Imaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// Renders a list of labelled embeddings to PNG files, writing each result as soon as its batch completes, so that a
/// long, interrupted sweep can be resumed without redoing finished pictures.
/// </summary>
/// <remarks>
/// Layout: <c>{folder}/{sweep}/{label}.png</c> + <c>{label}.json</c> (label, fingerprint) and
/// <c>{folder}/{sweep}/manifest.json</c> (finished labels). Every file is written atomically (temporary file, then
/// rename). On resume a label counts as finished only when the manifest lists it, both files exist and the stored
/// fingerprint (SHA-256 of the embedding's float32 bytes and <see cref="SettingsKey"/>) matches — so changed inputs or
/// decode settings are re-rendered instead of silently reused. Returned pictures are always read back from the PNGs,
/// so a resumed sweep yields exactly the same tensors (and scores) as an uninterrupted one.
/// </remarks>
public sealed partial class PictureSweep
{
    private readonly EmbeddingRenderer _renderer;
    private readonly ILogger _logger;

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
        Folder = Path.GetFullPath(folder);
        _renderer = renderer ?? throw new ArgumentNullException(nameof(renderer));
        SettingsKey = settingsKey ?? "";
        BatchSize = batchSize;
        Resume = resume;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Root output folder.</summary>
    public string Folder { get; }

    /// <summary>Settings that, with the embedding, determine a picture.</summary>
    public string SettingsKey { get; }

    /// <summary>Embeddings per renderer call.</summary>
    public int BatchSize { get; }

    /// <summary>Whether finished labels are skipped.</summary>
    public bool Resume { get; }

    /// <summary>Pictures rendered (not reused) so far by this instance.</summary>
    public int RenderedCount { get; private set; }

    /// <summary>Pictures reused from a previous run so far by this instance.</summary>
    public int ReusedCount { get; private set; }

    /// <summary>Folder of one sweep's files.</summary>
    public string SweepFolder(string sweep) => Path.Combine(Folder, Safe(sweep));

    /// <summary>Path of one label's PNG.</summary>
    public string PicturePath(string sweep, string label) => Path.Combine(SweepFolder(sweep), Safe(label) + ".png");

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
        ArgumentNullException.ThrowIfNull(labels);
        if (embeddings.ndim != 2 || embeddings.shape[0] != labels.Count)
            throw new ArgumentException($"need [{labels.Count}, P] embeddings; got [{string.Join(", ", embeddings.shape)}].", nameof(embeddings));
        if (labels.Distinct().Count() != labels.Count) throw new ArgumentException("labels must be unique.", nameof(labels));
        var dir = SweepFolder(sweep);
        Directory.CreateDirectory(dir);
        var manifestPath = Path.Combine(dir, "manifest.json");
        using var rows = embeddings.detach().to(torch.float32).cpu().contiguous();
        var fingerprints = labels.Select((_, i) =>
        {
            using var row = rows[i];
            return Fingerprint(row);
        }).ToArray();
        var done = Resume ? ReadManifest(manifestPath) : new SortedSet<string>(StringComparer.Ordinal);
        if (!Resume) WriteManifest(manifestPath, done);
        var todo = Enumerable.Range(0, labels.Count).Where(i => !IsFinished(dir, labels[i], fingerprints[i], done)).ToArray();
        int finished = labels.Count - todo.Length;
        ReusedCount += finished;
        if (finished > 0) _logger.LogInformation("{Sweep}: reusing {Count} finished pictures", sweep, finished);
        progress?.Report(new LensProgress($"decode {sweep}", finished, labels.Count));
        for (int start = 0; start < todo.Length; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = todo.Skip(start).Take(BatchSize).ToArray();
            using (var idx = torch.tensor(chunk.Select(i => (long)i).ToArray()))
            using (var batch = rows.index_select(0, idx))
            using (var pictures = _renderer(batch, cancellationToken))
            {
                if (pictures.ndim != 4 || pictures.shape[0] != chunk.Length || pictures.shape[1] != 3)
                    throw new InvalidOperationException($"the renderer returned [{string.Join(", ", pictures.shape)}] for {chunk.Length} embeddings; expected [{chunk.Length}, 3, H, W].");
                for (int k = 0; k < chunk.Length; k++)
                {
                    int i = chunk[k];
                    ImageIO.SavePng(pictures, k, Path.Combine(dir, Safe(labels[i]) + ".png"));
                    ResultsWriter.WriteJson(Path.Combine(dir, Safe(labels[i]) + ".json"), new PictureRecord(labels[i], fingerprints[i]));
                    done.Add(labels[i]);
                }
            }
            // The manifest is rewritten after the batch's files exist, so it never lists a picture that is not on disk.
            WriteManifest(manifestPath, done);
            RenderedCount += chunk.Length;
            finished += chunk.Length;
            progress?.Report(new LensProgress($"decode {sweep}", finished, labels.Count));
        }
        return LoadAll(dir, labels);
    }

    private static torch.Tensor LoadAll(string dir, IReadOnlyList<string> labels)
    {
        using var scope = torch.NewDisposeScope();
        var pictures = labels.Select(l =>
        {
            using var rgb = ImageIO.LoadRgb(Path.Combine(dir, Safe(l) + ".png"));
            return ImageIO.ToFloatChw(rgb);
        }).ToArray();
        return torch.stack(pictures, 0).MoveToOuterDisposeScope();
    }

    private static bool IsFinished(string dir, string label, string fingerprint, SortedSet<string> done)
    {
        if (!done.Contains(label)) return false;
        var png = Path.Combine(dir, Safe(label) + ".png");
        var json = Path.Combine(dir, Safe(label) + ".json");
        if (!File.Exists(png) || !File.Exists(json)) return false;
        try
        {
            var record = JsonSerializer.Deserialize<PictureRecord>(File.ReadAllText(json), ResultsWriter.JsonOptions);
            return record is not null && record.Label == label && record.Fingerprint == fingerprint;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private string Fingerprint(torch.Tensor row)
    {
        var floats = row.data<float>().ToArray();
        var bytes = new byte[floats.Length * sizeof(float)];
        Buffer.BlockCopy(floats, 0, bytes, 0, bytes.Length);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(bytes);
        sha.AppendData(Encoding.UTF8.GetBytes(SettingsKey));
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }

    private static SortedSet<string> ReadManifest(string path)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        if (!File.Exists(path)) return set;
        try
        {
            var m = JsonSerializer.Deserialize<SweepManifest>(File.ReadAllText(path), ResultsWriter.JsonOptions);
            if (m?.Completed is not null) set.UnionWith(m.Completed);
        }
        catch (JsonException)
        {
            // A damaged manifest only costs re-rendering.
        }
        return set;
    }

    private static void WriteManifest(string path, SortedSet<string> done) =>
        ResultsWriter.WriteJson(path, new SweepManifest(done.ToArray()));

    /// <summary>A label as a file name: characters outside [A-Za-z0-9._-] become '_' (e.g. <c>mlp:3</c> → <c>mlp_3</c>).</summary>
    public static string Safe(string label) =>
        new(label.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_').ToArray());

    private sealed record PictureRecord(string Label, string Fingerprint);

    private sealed record SweepManifest(IReadOnlyList<string> Completed);
}
