using System.Text;
using System.Text.Json;
using TorchSharp;

namespace DiffusionSteeringLens.IO;

/// <summary>Writes tensors to a <c>.safetensors</c> file atomically (temporary file, then rename).</summary>
public static class SafetensorsWriter
{
    /// <summary>
    /// Writes <paramref name="tensors"/> in the given order with an optional <c>__metadata__</c> map. Tensors may live on
    /// any device and be non-contiguous; they are copied to contiguous CPU memory one at a time. A failure leaves no
    /// partial file at <paramref name="path"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Duplicate tensor names, or a name equal to <c>__metadata__</c>.</exception>
    public static void Write(string path, IEnumerable<KeyValuePair<string, torch.Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var list = tensors.ToList();
        var layout = list.Select(kv => new SafetensorsEntry(kv.Key, kv.Value.dtype, kv.Value.shape)).ToList();
        Write(path, layout, i => list[i].Value.alias(), metadata);
    }

    /// <summary>
    /// Writes tensors produced one at a time: the layout (names, dtypes, shapes) first, then <paramref name="produce"/>(i)
    /// for each entry in order, written and disposed before the next is produced — so a multi-GB file never needs more
    /// than one tensor in memory.
    /// </summary>
    /// <exception cref="ArgumentException">Duplicate names, <c>__metadata__</c> as a name, or a produced tensor that does not match its entry.</exception>
    internal static void Write(string path, IReadOnlyList<SafetensorsEntry> layout, Func<int, torch.Tensor> produce,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(produce);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in layout)
        {
            if (entry.Name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor.", nameof(layout));
            if (!seen.Add(entry.Name)) throw new ArgumentException($"duplicate tensor name '{entry.Name}'.", nameof(layout));
        }

        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var entry in layout)
        {
            long bytes = entry.Shape.Aggregate(1L, (a, d) => a * d) * SafetensorsDType.SizeOf(entry.DType);
            header[entry.Name] = new Dictionary<string, object>
            {
                ["dtype"] = SafetensorsDType.NameOf(entry.DType),
                ["shape"] = entry.Shape,
                ["data_offsets"] = new[] { offset, offset + bytes },
            };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        // Pad with spaces so the data section starts 8-byte aligned, which lets readers memory-map every dtype.
        int padded = (json.Length + 7) / 8 * 8;
        var headerBytes = new byte[padded];
        Array.Fill(headerBytes, (byte)' ');
        json.CopyTo(headerBytes, 0);

        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + "." + Environment.ProcessId + ".tmp";
        try
        {
            using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                Span<byte> len = stackalloc byte[8];
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
                stream.Write(len);
                stream.Write(headerBytes);
                for (int i = 0; i < layout.Count; i++)
                {
                    using var t = produce(i);
                    var entry = layout[i];
                    if (t.dtype != entry.DType || !t.shape.SequenceEqual(entry.Shape))
                        throw new ArgumentException($"tensor '{entry.Name}' is {t.dtype} [{string.Join(", ", t.shape)}]; its layout entry says {entry.DType} [{string.Join(", ", entry.Shape)}].", nameof(produce));
                    if (t.numel() == 0) continue;
                    using var cpu = t.detach().to(torch.CPU).contiguous();
                    stream.Write(cpu.bytes);
                }
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { /* best effort */ }
            throw;
        }
    }

    /// <summary>Convenience overload for a dictionary of tensors (written in key order).</summary>
    public static void Write(string path, IReadOnlyDictionary<string, torch.Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal), metadata);
}
