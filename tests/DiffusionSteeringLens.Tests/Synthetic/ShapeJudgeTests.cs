using DiffusionSteeringLens.Synthetic;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Synthetic;

public sealed class ShapeJudgeTests
{
    private readonly ITestOutputHelper _out;

    public ShapeJudgeTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void JudgesCleanImagesAtLeast99Percent()
    {
        const int n = 1000;
        var attrs = ShapeDomain.Sample(n, seed: 424242);
        using var images = ShapeDomain.Render(attrs);
        using var judge = new ShapeJudge();
        var verdicts = judge.Judge(images);
        double shape = attrs.Zip(verdicts).Count(p => p.First.Shape == p.Second.Shape) / (double)n;
        double colour = attrs.Zip(verdicts).Count(p => p.First.Color == p.Second.Color) / (double)n;
        double size = attrs.Zip(verdicts).Count(p => p.First.Size == p.Second.Size) / (double)n;
        double overlay = attrs.Zip(verdicts).Count(p => p.First.Overlay == p.Second.Overlay) / (double)n;
        double jitter = attrs.Zip(verdicts).Count(p => p.First.OffsetX == p.Second.OffsetX && p.First.OffsetY == p.Second.OffsetY) / (double)n;
        foreach (var (a, v) in attrs.Zip(verdicts).Where(p => p.First.Shape != p.Second.Shape).Take(10))
            _out.WriteLine($"miss: {a} at ({a.OffsetX}, {a.OffsetY}) judged {v}");
        _out.WriteLine($"shape {shape:P1}, colour {colour:P1}, size {size:P1}, overlay {overlay:P1}, jitter {jitter:P1}");
        Assert.True(shape >= 0.99, $"shape {shape:P1}");
        Assert.True(colour >= 0.99, $"colour {colour:P1}");
        Assert.True(size >= 0.99, $"size {size:P1}");
        Assert.True(overlay >= 0.99, $"overlay {overlay:P1}");
    }

    [Fact]
    public void IsRobustToMildNoise()
    {
        const int n = 300;
        var attrs = ShapeDomain.Sample(n, seed: 99);
        using var images = ShapeDomain.Render(attrs);
        torch.manual_seed(1);
        using var noisy = (images + 0.03 * torch.randn_like(images)).clamp(0, 1);
        using var judge = new ShapeJudge();
        var verdicts = judge.Judge(noisy);
        double both = attrs.Zip(verdicts).Count(p => p.Second.Matches(p.First)) / (double)n;
        _out.WriteLine($"shape & colour under noise σ 0.03: {both:P1}");
        Assert.True(both >= 0.95, $"{both:P1}");
    }

    [Fact]
    public void RejectsBadShapes()
    {
        using var judge = new ShapeJudge();
        using var bad = torch.zeros(2, 3, 16, 16);
        Assert.Throws<ArgumentException>(() => judge.Judge(bad));
    }
}
