using TorchSharp;

namespace DiffusionSteeringLens.Imaging;

/// <summary>Copies between managed byte arrays and contiguous CPU uint8 tensors (internal plumbing).</summary>
internal static class Uint8Pixels
{
    /// <summary>Copies a uint8 tensor's elements (row-major) into a new array.</summary>
    public static byte[] ToArray(torch.Tensor t)
    {
        if (t.dtype != torch.uint8) throw new ArgumentException($"expected a uint8 tensor, got {t.dtype}.", nameof(t));
        using var scope = torch.NewDisposeScope();
        var cpu = t.detach().cpu().contiguous();
        return cpu.bytes.ToArray();
    }

    /// <summary>Creates a new uint8 tensor of the given shape holding a copy of <paramref name="data"/>.</summary>
    public static torch.Tensor FromArray(ReadOnlySpan<byte> data, params long[] shape)
    {
        long n = 1;
        foreach (var s in shape) n *= s;
        if (n != data.Length) throw new ArgumentException($"{data.Length} bytes do not fill shape [{string.Join(",", shape)}].", nameof(data));
        var t = torch.empty(shape, torch.uint8);
        if (n > 0) data.CopyTo(t.bytes);
        return t;
    }

    /// <summary>A fresh contiguous CPU copy of <paramref name="t"/> that shares no storage with it (no intermediate handles leak).</summary>
    public static torch.Tensor CpuCopy(torch.Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return t.detach().cpu().contiguous().clone().MoveToOuterDisposeScope();
    }

    /// <summary>Formats a shape for messages, e.g. <c>[3,16,16]</c>.</summary>
    public static string Shape(torch.Tensor t) => "[" + string.Join(",", t.shape) + "]";
}
