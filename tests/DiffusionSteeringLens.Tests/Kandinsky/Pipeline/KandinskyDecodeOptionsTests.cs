using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.Models.Kandinsky;

namespace DiffusionSteeringLens.Tests.Kandinsky.Pipeline;

/// <summary>Plain decoder-neutral options given to the Kandinsky decoder keep their size and seed policy and sample with its defaults.</summary>
public sealed class KandinskyDecodeOptionsTests
{
    [Fact]
    public void NeutralOptionsKeepSizeAndSeedsAndTakeTheSamplingDefaults()
    {
        var seeds = new long[] { 3, 9 };
        var neutral = new DecodeOptions { Height = 40, Width = 24, Seed = 5, Seeds = seeds };
        var k = KandinskyDecodeOptions.From(neutral);
        Assert.Equal((40, 24, 5L), (k.Height, k.Width, k.Seed));
        Assert.Same(seeds, k.Seeds);
        Assert.Equal(new KandinskyDecodeOptions().NumInferenceSteps, k.NumInferenceSteps);
        Assert.Equal(new KandinskyDecodeOptions().GuidanceScale, k.GuidanceScale);
        Assert.Equal(9, k.SeedOf(1));
    }

    [Fact]
    public void KandinskyOptionsPassThroughAndSurviveWith()
    {
        DecodeOptions given = new KandinskyDecodeOptions { NumInferenceSteps = 7, GuidanceScale = 1.5 };
        var copy = given with { Seed = 11 }; // a neutral-typed `with` keeps the derived settings
        var k = Assert.IsType<KandinskyDecodeOptions>(copy);
        Assert.Equal((7, 1.5, 11L), (k.NumInferenceSteps, k.GuidanceScale, k.Seed));
        Assert.Same(given, KandinskyDecodeOptions.From(given));
    }

    [Fact]
    public void ValidateChecksBothLevels()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new KandinskyDecodeOptions { NumInferenceSteps = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new KandinskyDecodeOptions { GuidanceScale = double.NaN }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new KandinskyDecodeOptions { Height = 0 }.Validate());
        var batch = Assert.Throws<ArgumentOutOfRangeException>(() => new KandinskyDecodeOptions { PicturesPerBatch = 0 }.Validate());
        Assert.Equal(nameof(KandinskyDecodeOptions.PicturesPerBatch), batch.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DecodeOptions { Seeds = Array.Empty<long>() }.Validate());
    }
}
