using System.Runtime.InteropServices;
using System.Security.Cryptography;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>Short SHA-256 of parameter bytes: lets two runs be compared step by step, not only by their final file.</summary>
internal static class Fingerprint
{
    public static string Of(IEnumerable<Tensor> parameters)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in parameters)
        {
            using var contiguous = p.detach().contiguous();
            sha.AppendData(MemoryMarshal.AsBytes(contiguous.data<float>().ToArray().AsSpan()));
        }
        return Convert.ToHexString(sha.GetHashAndReset())[..16].ToLowerInvariant();
    }
}
