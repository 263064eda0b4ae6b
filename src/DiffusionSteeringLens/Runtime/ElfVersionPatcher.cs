using System.Buffers.Binary;
using System.Text;

namespace DiffusionSteeringLens.Runtime;

/// <summary>
/// Marks one symbol-version requirement of an ELF64 little-endian shared object as weak (VER_FLG_WEAK),
/// so the dynamic loader accepts a libstdc++ that lacks that version node.
/// </summary>
/// <remarks>
/// Why: TorchSharp 0.107's libLibTorchSharp.so was linked by GCC 13 and declares GLIBCXX_3.4.32, whose only
/// symbol (std::ios_base_library_init) is a never-called marker; Debian 12 / Ubuntu 22.04 stop at 3.4.30.
/// The same byte edit is done at build time by build/DiffusionSteeringLens.targets.
/// </remarks>
internal static class ElfVersionPatcher
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    /// <summary>Weakens every requirement named <paramref name="versionName"/> in <paramref name="elf"/>, in place.</summary>
    /// <returns>True when the image holds such a requirement (already weak or weakened now).</returns>
    /// <exception cref="InvalidDataException">The bytes are an ELF64 LE file whose tables point outside the file.</exception>
    public static bool Weaken(byte[] elf, string versionName)
    {
        ArgumentNullException.ThrowIfNull(elf);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F'
            || elf[4] != 2 || elf[5] != 1)
            return false; // not ELF64 little-endian: nothing to do
        var d = elf.AsSpan();
        try
        {
            long shoff = BinaryPrimitives.ReadInt64LittleEndian(d[0x28..]);
            int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(d[0x3A..]);
            int shnum = BinaryPrimitives.ReadUInt16LittleEndian(d[0x3C..]);
            bool found = false;
            for (int i = 0; i < shnum; i++)
            {
                int sh = checked((int)(shoff + (long)i * shentsize));
                if (BinaryPrimitives.ReadUInt32LittleEndian(d[(sh + 4)..]) != ShtGnuVerneed) continue;
                int off = checked((int)BinaryPrimitives.ReadInt64LittleEndian(d[(sh + 24)..]));
                int link = BinaryPrimitives.ReadInt32LittleEndian(d[(sh + 40)..]);
                int count = BinaryPrimitives.ReadInt32LittleEndian(d[(sh + 44)..]);
                int strOff = checked((int)BinaryPrimitives.ReadInt64LittleEndian(d[checked((int)(shoff + (long)link * shentsize + 24))..]));
                for (int n = 0; n < count; n++)
                {
                    int auxCount = BinaryPrimitives.ReadUInt16LittleEndian(d[(off + 2)..]);
                    int aux = off + (int)BinaryPrimitives.ReadUInt32LittleEndian(d[(off + 8)..]);
                    for (int a = 0; a < auxCount; a++)
                    {
                        int nameOff = strOff + (int)BinaryPrimitives.ReadUInt32LittleEndian(d[(aux + 8)..]);
                        int end = d[nameOff..].IndexOf((byte)0);
                        if (end >= 0 && Encoding.ASCII.GetString(d.Slice(nameOff, end)) == versionName)
                        {
                            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(d[(aux + 4)..]);
                            BinaryPrimitives.WriteUInt16LittleEndian(d[(aux + 4)..], (ushort)(flags | VerFlgWeak));
                            found = true;
                        }
                        uint next = BinaryPrimitives.ReadUInt32LittleEndian(d[(aux + 12)..]);
                        if (next == 0) break;
                        aux += (int)next;
                    }
                    uint vnNext = BinaryPrimitives.ReadUInt32LittleEndian(d[(off + 12)..]);
                    if (vnNext == 0) break;
                    off += (int)vnNext;
                }
            }
            return found;
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or OverflowException)
        {
            throw new InvalidDataException("ELF section tables point outside the file; refusing to patch.", e);
        }
    }
}
