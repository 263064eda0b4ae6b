using System.Buffers.Binary;

namespace DiffusionSteeringLens.Tests.Reliability;

/// <summary>
/// PNG chunk surgery for the mutation test: rewrites a chunk and recomputes its CRC, so decoders believe the edit
/// (a flipped bit with a stale CRC is rejected before the interesting code runs).
/// </summary>
internal static class PngChunks
{
    private const int SignatureLength = 8;

    /// <summary>Offsets of every chunk (its length field) in a PNG.</summary>
    public static List<int> Offsets(byte[] png)
    {
        var offsets = new List<int>();
        for (int at = SignatureLength; at + 12 <= png.Length;)
        {
            offsets.Add(at);
            long length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at));
            long next = at + 12 + length;
            if (next > png.Length) break;
            at = (int)next;
        }
        return offsets;
    }

    /// <summary>The PNG with IHDR declaring <paramref name="width"/>×<paramref name="height"/> (CRC fixed).</summary>
    public static byte[] WithDimensions(byte[] png, long width, long height)
    {
        var copy = (byte[])png.Clone();
        int ihdr = SignatureLength;
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(ihdr + 8), (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(ihdr + 12), (uint)height);
        FixCrc(copy, ihdr);
        return copy;
    }

    /// <summary>Mutates one chunk's data with <paramref name="mutate"/> and writes it back with a matching length and CRC.</summary>
    public static byte[] MutateChunkData(byte[] png, Random random, Func<byte[], byte[]> mutate)
    {
        var offsets = Offsets(png);
        int at = offsets[random.Next(offsets.Count)];
        int length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at));
        var type = png.AsSpan(at + 4, 4).ToArray();
        var data = mutate(png.AsSpan(at + 8, length).ToArray());
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        type.CopyTo(chunk, 4);
        data.CopyTo(chunk, 8);
        FixCrc(chunk, 0);
        return png[..at].Concat(chunk).Concat(png[(at + 12 + length)..]).ToArray();
    }

    /// <summary>The PNG with one chunk's length field replaced (the data is left as it was).</summary>
    public static byte[] WithChunkLength(byte[] png, Random random, long length)
    {
        var offsets = Offsets(png);
        var copy = (byte[])png.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(offsets[random.Next(offsets.Count)]), (uint)length);
        return copy;
    }

    /// <summary>Recomputes the CRC of the chunk starting at <paramref name="at"/> (over its type and data).</summary>
    public static void FixCrc(byte[] png, int at)
    {
        int length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at));
        uint crc = Crc32(png.AsSpan(at + 4, 4 + length));
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(at + 8 + length), crc);
    }

    private static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    /// <summary>CRC-32 as PNG defines it (ISO 3309, reflected, initial and final XOR 0xFFFFFFFF).</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in bytes) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }
}
