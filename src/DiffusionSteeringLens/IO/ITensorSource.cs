using TorchSharp;

namespace DiffusionSteeringLens.IO;

/// <summary>A named collection of tensors that can be loaded one at a time (a safetensors file or a sharded checkpoint).</summary>
internal interface ITensorSource : IDisposable
{
    /// <summary>The file or folder this source reads, for error messages.</summary>
    string SourcePath { get; }

    /// <summary>All tensor names.</summary>
    IReadOnlyCollection<string> Names { get; }

    /// <summary>True when a tensor of that name exists.</summary>
    bool Contains(string name);

    /// <summary>Header information of one tensor.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor; the message names it and the file.</exception>
    SafetensorsTensorInfo GetInfo(string name);

    /// <summary>
    /// Loads one tensor, converted to <paramref name="dtype"/> and moved to <paramref name="device"/> when given.
    /// The caller owns (and disposes) the result. Without conversion on CPU it may share pages with a private,
    /// copy-on-write mapping of the file, so nothing is copied until written.
    /// </summary>
    torch.Tensor Load(string name, torch.ScalarType? dtype = null, torch.Device? device = null);

    /// <summary>
    /// Copies one tensor into <paramref name="destination"/> (same shape), converting its dtype and device. Sources that
    /// can stream (<see cref="SafetensorsFile"/>) read it in bounded chunks, so loading a model costs its weights plus
    /// one chunk of memory, not weights plus a mapped or converted copy of the file.
    /// </summary>
    void CopyInto(string name, torch.Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var loaded = Load(name);
        destination.copy_(loaded);
    }
}
