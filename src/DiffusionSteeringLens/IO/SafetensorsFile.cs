using System.Buffers.Binary;
using System.Text.Unicode;
using System.Text.Json;
using TorchSharp;

namespace DiffusionSteeringLens.IO;

/// <summary>
/// Reader for one <c>.safetensors</c> file: validates the whole header on open, then loads tensors lazily.
/// </summary>
/// <remarks>
/// Tensors whose data offset is a multiple of their element size are served from a private memory mapping of the
/// file (<c>torch.from_file</c>), so multi-GB checkpoints are not copied into managed memory; others are read
/// with a stream into a fresh native tensor.
/// </remarks>
public sealed class SafetensorsFile : ITensorSource
{
    /// <summary>Upper bound on the JSON header; real headers are well under 1 MB per thousand tensors.</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;
    private readonly Dictionary<torch.ScalarType, torch.Tensor> _mappings = new();
    private readonly object _gate = new();
    private bool _disposed;

    private SafetensorsFile(string path, long fileLength, long dataStart, List<SafetensorsTensorInfo> tensors,
        IReadOnlyDictionary<string, string> metadata)
    {
        SourcePath = path;
        FileLength = fileLength;
        DataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <inheritdoc />
    public string SourcePath { get; }

    /// <summary>Total file size in bytes.</summary>
    public long FileLength { get; }

    /// <summary>Absolute offset of the data section (8 + header length).</summary>
    public long DataStart { get; }

    /// <summary>Tensor headers in data order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The optional <c>__metadata__</c> string map.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <inheritdoc />
    public IReadOnlyCollection<string> Names => _byName.Keys;

    /// <summary>Opens and validates a file. Refuses pickle checkpoints with a pointer to the safetensors file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="UnsupportedCheckpointFormatException">The file is a pickle/zip PyTorch checkpoint.</exception>
    /// <exception cref="SafetensorsFormatException">The header violates the format; the message names the rule and tensor.</exception>
    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        path = Path.GetFullPath(path);
        if (Directory.Exists(path)) throw new SafetensorsFormatException(path, "is a folder, not a safetensors file.");
        if (!File.Exists(path)) throw new FileNotFoundException($"Safetensors file not found: {path}", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long length = stream.Length;
        Span<byte> prefix = stackalloc byte[9];
        int got = stream.ReadAtLeast(prefix, 9, throwOnEndOfStream: false);
        PickleDetector.ThrowIfPickle(path, prefix[..got]);
        stream.Position = Math.Min(8, got);
        if (got < 8)
            throw new SafetensorsFormatException(path, $"file is {length} bytes; a safetensors file starts with an 8-byte header length.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        // A file whose length prefix does not fit, or whose header does not open with '{', is some other kind of file
        // (a picture, a text file…): say so rather than report its first 8 bytes as an absurd header length.
        if (headerLength > (ulong)(length - 8))
            throw new SafetensorsFormatException(path,
                $"not a safetensors file: its 8-byte length prefix declares a {headerLength}-byte header, which exceeds the {length - 8} bytes after the prefix.");
        if (got == 9 && prefix[8] != (byte)'{')
            throw new SafetensorsFormatException(path,
                $"not a safetensors file: byte 8 is 0x{prefix[8]:X2}, but the header must be a JSON object starting with '{{'.");
        if (headerLength > MaxHeaderBytes)
            throw new SafetensorsFormatException(path, $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit.");
        if (headerLength < 2)
            throw new SafetensorsFormatException(path, $"header length {headerLength} is too small for a JSON object.");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        // System.Text.Json checks UTF-8 only when a string is read; check it up front so bad bytes are a format error.
        if (!Utf8.IsValid(header))
            throw new SafetensorsFormatException(path, "header is not valid UTF-8 text.");
        long dataStart = 8 + (long)headerLength;
        var (tensors, metadata) = ParseHeader(path, header, length - dataStart);
        return new SafetensorsFile(path, length, dataStart, tensors, metadata);
    }

    private static (List<SafetensorsTensorInfo>, IReadOnlyDictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument doc;
        try
        {
            // Duplicate tensor names are ambiguous (which entry holds the data?): refuse them while parsing.
            doc = JsonDocument.Parse(header, new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(path, $"header is not well-formed JSON ({e.Message}).", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new SafetensorsFormatException(path, $"header must be a JSON object, found {doc.RootElement.ValueKind}.");
            if (JsonStringCheck.FirstUndecodable(doc.RootElement) is { } undecodable)
                throw new SafetensorsFormatException(path, $"header: {undecodable}.");
            var tensors = new List<SafetensorsTensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object)
                        throw new SafetensorsFormatException(path, "__metadata__ must be an object of strings.");
                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String)
                            throw new SafetensorsFormatException(path, $"__metadata__ entry '{m.Name}' must be a string.");
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                tensors.Add(ParseEntry(path, prop.Name, prop.Value, dataLength));
            }
            tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            for (int i = 1; i < tensors.Count; i++)
            {
                var prev = tensors[i - 1];
                var cur = tensors[i];
                if (cur.Begin < prev.End && cur.ByteLength > 0 && prev.ByteLength > 0)
                    throw new SafetensorsFormatException(path,
                        $"tensor '{cur.Name}' bytes [{cur.Begin}, {cur.End}) overlap tensor '{prev.Name}' bytes [{prev.Begin}, {prev.End}).");
            }
            return (tensors, metadata);
        }
    }

    private static SafetensorsTensorInfo ParseEntry(string path, string name, JsonElement e, long dataLength)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException(path, $"tensor '{name}': header entry must be an object.");
        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw new SafetensorsFormatException(path, $"tensor '{name}': missing string 'dtype'.");
        var dtype = dt.GetString()!;
        if (!SafetensorsDType.TryParse(dtype, out var scalar, out int elementSize))
            throw new SafetensorsFormatException(path,
                $"tensor '{name}': unknown dtype '{dtype}' (known: {string.Join(", ", SafetensorsDType.KnownNames)}).");
        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw new SafetensorsFormatException(path, $"tensor '{name}': missing array 'shape'.");
        var shape = new long[sh.GetArrayLength()];
        int k = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v) || v < 0)
                throw new SafetensorsFormatException(path, $"tensor '{name}': shape entries must be non-negative integers.");
            shape[k++] = v;
        }
        if (!e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new SafetensorsFormatException(path, $"tensor '{name}': 'data_offsets' must be [begin, end].");
        var offsets = off.EnumerateArray().ToArray();
        if (offsets[0].ValueKind != JsonValueKind.Number || offsets[1].ValueKind != JsonValueKind.Number
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw new SafetensorsFormatException(path, $"tensor '{name}': data_offsets must be integers with 0 <= begin <= end.");
        if (end > dataLength)
            throw new SafetensorsFormatException(path,
                $"tensor '{name}': data_offsets [{begin}, {end}) run past the end of the data section ({dataLength} bytes).");
        long count;
        try { count = shape.Aggregate(1L, (a, b) => checked(a * b)); }
        catch (OverflowException) { throw new SafetensorsFormatException(path, $"tensor '{name}': shape element count overflows."); }
        long bytes;
        try { bytes = checked(count * elementSize); }
        catch (OverflowException) { throw new SafetensorsFormatException(path, $"tensor '{name}': shape byte size overflows."); }
        if (bytes != end - begin)
            throw new SafetensorsFormatException(path,
                $"tensor '{name}': shape [{string.Join(", ", shape)}] × {elementSize} bytes ({dtype}) = {bytes} bytes, " +
                $"but data_offsets span {end - begin} bytes.");
        return new SafetensorsTensorInfo(name, dtype, scalar, shape, begin, end);
    }

    /// <inheritdoc />
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <inheritdoc />
    public SafetensorsTensorInfo GetInfo(string name) =>
        _byName.TryGetValue(name, out var info)
            ? info
            : throw new KeyNotFoundException($"{SourcePath}: no tensor named '{name}'.");

    /// <inheritdoc />
    public torch.Tensor Load(string name, torch.ScalarType? dtype = null, torch.Device? device = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var info = GetInfo(name);
        torch.Tensor raw = LoadRaw(info);
        bool convert = dtype is { } d && d != info.ScalarType;
        bool move = device is not null && device.type != DeviceType.CPU;
        if (!convert && !move) return raw;
        using (raw)
            return raw.to(dtype ?? info.ScalarType, device ?? torch.CPU);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Into a contiguous CPU tensor the bytes are read (not mapped) in chunks of at most <see cref="CopyChunkBytes"/> and
    /// converted chunk by chunk: the file's pages never count against the process, and a float16 file loaded as float32
    /// costs the float32 weights plus one chunk. Other destinations load and copy.
    /// </remarks>
    public void CopyInto(string name, torch.Tensor destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(destination);
        var info = GetInfo(name);
        if (!info.Shape.SequenceEqual(destination.shape))
            throw new ArgumentException($"{SourcePath}: '{name}' is [{string.Join(", ", info.Shape)}]; the destination is [{string.Join(", ", destination.shape)}].", nameof(destination));
        if (destination.device_type != DeviceType.CPU || !destination.is_contiguous() || info.ElementCount == 0)
        {
            using var loaded = Load(name);
            destination.copy_(loaded);
            return;
        }
        int elementSize = SafetensorsDType.SizeOf(info.ScalarType);
        long perChunk = Math.Max(1, CopyChunkBytes / elementSize);
        using var flat = destination.view(-1);
        using var buffer = torch.empty(Math.Min(perChunk, info.ElementCount), info.ScalarType);
        using var stream = new FileStream(SourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        stream.Position = DataStart + info.Begin;
        using var noGrad = torch.no_grad();
        for (long done = 0; done < info.ElementCount; done += perChunk)
        {
            long count = Math.Min(perChunk, info.ElementCount - done);
            using var part = buffer.narrow(0, 0, count);
            stream.ReadExactly(buffer.bytes[..checked((int)(count * elementSize))]);
            using var target = flat.narrow(0, done, count);
            target.copy_(part);
        }
    }

    /// <summary>Largest read of <see cref="CopyInto"/> (bytes of the file's dtype).</summary>
    internal const long CopyChunkBytes = 4L << 20;

    private torch.Tensor LoadRaw(SafetensorsTensorInfo info)
    {
        int elementSize = SafetensorsDType.SizeOf(info.ScalarType);
        long absolute = DataStart + info.Begin;
        if (info.ElementCount == 0) return torch.empty(info.Shape, info.ScalarType);
        if (absolute % elementSize == 0)
        {
            var map = MappingFor(info.ScalarType, elementSize);
            using var flat = map.narrow(0, absolute / elementSize, info.ElementCount);
            return flat.view(info.Shape);
        }
        // Unaligned data (legal in the format, rare in practice): one read into fresh native memory.
        var t = torch.empty(info.Shape, info.ScalarType);
        using var stream = new FileStream(SourcePath, FileMode.Open, FileAccess.Read, FileShare.Read);
        stream.Position = absolute;
        stream.ReadExactly(t.bytes);
        return t;
    }

    private torch.Tensor MappingFor(torch.ScalarType type, int elementSize)
    {
        lock (_gate)
        {
            if (!_mappings.TryGetValue(type, out var map))
            {
                // MAP_PRIVATE: pages are shared with the page cache until written; the file is never modified.
                map = torch.from_file(SourcePath, shared: false, size: FileLength / elementSize, dtype: type);
                _mappings[type] = map;
            }
            return map;
        }
    }

    /// <summary>Releases the file mappings (tensors already loaded stay valid: they hold their own reference).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (_gate)
        {
            foreach (var m in _mappings.Values) m.Dispose();
            _mappings.Clear();
        }
    }
}
