namespace DiffusionSteeringLens.Tests.Reliability;

/// <summary>Finds a JPEG's frame header (SOF0–SOF2), whose height and width the mutation test rewrites.</summary>
internal static class JpegFrame
{
    /// <summary>Offset of the SOFn marker (0xFF 0xC0..0xC2); height is at +5, width at +7 (big-endian); null if absent.</summary>
    public static int? Find(byte[] jpeg)
    {
        for (int i = 2; i + 9 < jpeg.Length; i++)
            if (jpeg[i] == 0xFF && jpeg[i + 1] is >= 0xC0 and <= 0xC2)
                return i;
        return null;
    }
}
