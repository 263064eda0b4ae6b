using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary>The --targets syntax (library <see cref="TargetList"/>).</summary>
public sealed class TargetListTests
{
    private static readonly VitArchitecture Arch = new("clip_vision", 48, 16, 1664, 104, 8192, 1280, 257, 0, 224);

    [Fact]
    public void ShorthandsExpand()
    {
        Assert.Equal(768, LensTarget.ParseList("all-heads", Arch).Count);
        Assert.Equal(48, LensTarget.ParseList("all-mlps", Arch).Count);
        Assert.All(LensTarget.ParseList("all-layers", Arch), t => Assert.IsType<ResidualTarget>(t));
        var range = LensTarget.ParseList("L2-3", Arch);
        Assert.Equal(32, range.Count);
        Assert.Equal(new HeadTarget(2, 0), range[0]);
        Assert.Equal(new HeadTarget(3, 15), range[^1]);
        Assert.Equal(16, LensTarget.ParseList("L5", Arch).Count);
    }

    [Fact]
    public void ListsKeepOrderAndDropDuplicates()
    {
        var list = LensTarget.ParseList(" L36H4, L47H14 ,mlp:30,L36H4,resid_post:5", Arch);
        Assert.Equal(new[] { "L36H4", "L47H14", "mlp:30", "resid_post:5" }, list.Select(t => t.Label));
    }

    [Theory]
    [InlineData("")]
    [InlineData("L36X4")]
    [InlineData("L48H0")]
    [InlineData("L0H16")]
    [InlineData("mlp:48")]
    [InlineData("L3-2")]
    [InlineData("L40-48")]
    public void BadListsThrowFormatException(string text) =>
        Assert.Throws<FormatException>(() => LensTarget.ParseList(text, Arch));
}
