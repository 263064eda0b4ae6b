using TorchSharp;

namespace DiffusionSteeringLens.Tests.TestSupport;

/// <summary>Tolerance checks with the golden fixtures' definitions; messages give the measured error.</summary>
public static class TensorAssert
{
    /// <summary>Module parity: max|a−e| ≤ tol × max(1, max|e|).</summary>
    public static double CloseScaled(torch.Tensor expected, torch.Tensor actual, double tol, string label)
    {
        var (err, refMax) = Errors(expected, actual, label);
        double bound = tol * Math.Max(1.0, refMax);
        Assert.True(err <= bound, $"{label}: max abs error {err:E3} > {bound:E3} (tol {tol:E1} × max(1, |ref|max={refMax:E3}))");
        return err;
    }

    /// <summary>Relative parity: max|a−e| / max|e| ≤ tol.</summary>
    public static double CloseRelative(torch.Tensor expected, torch.Tensor actual, double tol, string label)
    {
        var (err, refMax) = Errors(expected, actual, label);
        double rel = refMax == 0 ? err : err / refMax;
        Assert.True(rel <= tol, $"{label}: relative error {rel:E3} > {tol:E1} (max abs {err:E3}, |ref|max {refMax:E3})");
        return rel;
    }

    /// <summary>Absolute parity: max|a−e| ≤ tol.</summary>
    public static double CloseAbsolute(torch.Tensor expected, torch.Tensor actual, double tol, string label)
    {
        var (err, _) = Errors(expected, actual, label);
        Assert.True(err <= tol, $"{label}: max abs error {err:E3} > {tol:E3}");
        return err;
    }

    /// <summary>Exact equality (integer tensors), with shape and dtype.</summary>
    public static void Equal(torch.Tensor expected, torch.Tensor actual, string label)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape), $"{label}: shape [{string.Join(",", actual.shape)}] != expected [{string.Join(",", expected.shape)}]");
        Assert.Equal(expected.dtype, actual.dtype);
        using var eq = expected.eq(actual).all();
        Assert.True(eq.item<bool>(), $"{label}: tensors differ");
    }

    private static (double Err, double RefMax) Errors(torch.Tensor expected, torch.Tensor actual, string label)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{label}: shape [{string.Join(",", actual.shape)}] != expected [{string.Join(",", expected.shape)}]");
        using var scope = torch.NewDisposeScope();
        var e = expected.to(torch.float64);
        var a = actual.to(torch.float64).to(expected.device);
        Assert.False(a.isnan().any().item<bool>(), $"{label}: result contains NaN");
        double err = (a - e).abs().max().item<double>();
        double refMax = e.abs().max().item<double>();
        return (err, refMax);
    }
}
