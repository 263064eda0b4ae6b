using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// Where <see cref="LensRenderer.RenderSweep"/> keeps finished pictures, so that a long, interrupted render can be resumed
/// without redoing them. A picture is identified by its sweep (a named set of pictures), its label (unique in the sweep)
/// and a fingerprint of everything that determines it (its embedding and the render settings); a stored picture counts
/// as finished only under the same fingerprint, so changed inputs or settings are re-rendered instead of silently reused.
/// </summary>
/// <remarks>
/// Two stores ship: <see cref="InFolder"/> (PNG files with a manifest, what the <c>dsl</c> tool and its <c>--resume</c>
/// use) and <see cref="InMemory"/> (tensors kept for the store's lifetime). A custom store derives from this class. The
/// renderer calls, per render: <see cref="Begin"/> once, <see cref="IsFinished"/> per label, then per decoded batch
/// <see cref="Save"/> for each picture and <see cref="Commit"/> once, and finally <see cref="Load"/>. A store is not
/// thread-safe; one render at a time.
/// </remarks>
public abstract class PictureStore : IDisposable
{
    /// <summary>For derived stores.</summary>
    protected PictureStore()
    {
    }

    /// <summary>
    /// PNG files under <paramref name="folder"/>: <c>{folder}/{sweep}/{label}.png</c> + <c>{label}.json</c> (label,
    /// fingerprint) and <c>{folder}/{sweep}/manifest.json</c> (finished labels), every file written atomically
    /// (temporary file, then rename). A label is finished only when the manifest lists it, both files exist and the
    /// stored fingerprint matches. <see cref="Load"/> always reads the PNGs back, so a resumed render returns exactly the
    /// tensors an uninterrupted one does (pictures are quantised to 8 bits either way).
    /// </summary>
    /// <param name="folder">Root folder (created when needed).</param>
    /// <param name="resume">Reuse finished pictures; false forgets them (the manifest is reset) at each <see cref="Begin"/>.</param>
    public static PictureStore InFolder(string folder, bool resume = false) => new FolderPictureStore(folder, resume);

    /// <summary>
    /// Tensors kept in memory for the store's lifetime (the store owns copies; dispose it): a label rendered again with
    /// the same fingerprint is reused, and <see cref="Load"/> returns the pictures as rendered (not quantised).
    /// </summary>
    public static PictureStore InMemory() => new MemoryPictureStore();

    /// <summary>Starts a render of <paramref name="sweep"/>: prepares the sweep and reads (or forgets) what is finished.</summary>
    public abstract void Begin(string sweep);

    /// <summary>Whether <paramref name="label"/>'s picture is finished and was made under <paramref name="fingerprint"/>.</summary>
    public abstract bool IsFinished(string sweep, string label, string fingerprint);

    /// <summary>Stores a rendered picture; it counts as finished after the next <see cref="Commit"/>.</summary>
    /// <param name="sweep">The sweep.</param>
    /// <param name="label">The picture's label.</param>
    /// <param name="fingerprint">What the picture was made from.</param>
    /// <param name="picture">[3, H, W] float in [0, 1] on the CPU; borrowed (a store keeps a copy if it keeps it at all).</param>
    public abstract void Save(string sweep, string label, string fingerprint, torch.Tensor picture);

    /// <summary>Records every picture saved since the last commit as finished (called after each decoded batch).</summary>
    public abstract void Commit(string sweep);

    /// <summary>The stored pictures of <paramref name="labels"/>, [N, 3, H, W] in [0, 1] on the CPU; the caller owns the tensor.</summary>
    /// <remarks>Throws when a label has no stored picture (the folder store: the PNG cannot be read).</remarks>
    public abstract torch.Tensor Load(string sweep, IReadOnlyList<string> labels);

    /// <summary>Releases what the store holds.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the store holds (native tensors when <paramref name="disposing"/>).</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
