using System.Text.Json;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Imaging;
using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// The PNG folder store (<see cref="PictureStore.InFolder"/>): <c>{folder}/{sweep}/{label}.png</c> + <c>{label}.json</c>
/// and <c>{folder}/{sweep}/manifest.json</c>, every file written atomically; pictures are always read back from the PNGs.
/// </summary>
internal sealed class FolderPictureStore : PictureStore
{
    private readonly Dictionary<string, SortedSet<string>> _done = new(StringComparer.Ordinal);

    public FolderPictureStore(string folder, bool resume)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Folder = Path.GetFullPath(folder);
        Resume = resume;
    }

    /// <summary>Root folder.</summary>
    public string Folder { get; }

    /// <summary>Whether finished labels are reused.</summary>
    public bool Resume { get; }

    /// <summary>Folder of one sweep's files.</summary>
    public string SweepFolder(string sweep) => Path.Combine(Folder, Safe(sweep));

    /// <summary>Path of one label's PNG.</summary>
    public string PicturePath(string sweep, string label) => Path.Combine(SweepFolder(sweep), Safe(label) + ".png");

    /// <summary>A label as a file name: characters outside [A-Za-z0-9._-] become '_' (e.g. <c>mlp:3</c> → <c>mlp_3</c>).</summary>
    public static string Safe(string label) =>
        new(label.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_').ToArray());

    public override void Begin(string sweep)
    {
        var dir = SweepFolder(sweep);
        Directory.CreateDirectory(dir);
        var manifestPath = Path.Combine(dir, "manifest.json");
        var done = Resume ? ReadManifest(manifestPath) : new SortedSet<string>(StringComparer.Ordinal);
        if (!Resume) WriteManifest(manifestPath, done);
        _done[sweep] = done;
    }

    public override bool IsFinished(string sweep, string label, string fingerprint)
    {
        var dir = SweepFolder(sweep);
        if (!Done(sweep).Contains(label)) return false;
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

    public override void Save(string sweep, string label, string fingerprint, torch.Tensor picture)
    {
        var dir = SweepFolder(sweep);
        var done = Done(sweep);
        ImageIO.SavePng(picture, Path.Combine(dir, Safe(label) + ".png"));
        ResultsWriter.WriteJson(Path.Combine(dir, Safe(label) + ".json"), new PictureRecord(label, fingerprint));
        done.Add(label);
    }

    // The manifest is rewritten after the batch's files exist, so it never lists a picture that is not on disk.
    public override void Commit(string sweep) => WriteManifest(Path.Combine(SweepFolder(sweep), "manifest.json"), Done(sweep));

    public override torch.Tensor Load(string sweep, IReadOnlyList<string> labels)
    {
        var dir = SweepFolder(sweep);
        using var scope = torch.NewDisposeScope();
        var pictures = labels.Select(l =>
        {
            using var rgb = ImageIO.LoadRgb(Path.Combine(dir, Safe(l) + ".png"));
            return ImageIO.ToFloatChw(rgb);
        }).ToArray();
        return torch.stack(pictures, 0).MoveToOuterDisposeScope();
    }

    private SortedSet<string> Done(string sweep) =>
        _done.TryGetValue(sweep, out var done) ? done : throw new InvalidOperationException($"sweep '{sweep}' was not begun.");

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

    private sealed record PictureRecord(string Label, string Fingerprint);

    private sealed record SweepManifest(IReadOnlyList<string> Completed);
}
