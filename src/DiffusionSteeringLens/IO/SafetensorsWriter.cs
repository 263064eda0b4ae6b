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
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in list)
        {
            if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor.", nameof(tensors));
            if (!seen.Add(name)) throw new ArgumentException($"duplicate tensor name '{name}'.", nameof(tensors));
        }

        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var (name, t) in list)
        {
            long bytes = t.numel() * SafetensorsDType.SizeOf(t.dtype);
            header[name] = new Dictionary<string, object>
            {
                ["dtype"] = SafetensorsDType.NameOf(t.dtype),
                ["shape"] = t.shape,
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
                foreach (var (_, t) in list)
                {
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
