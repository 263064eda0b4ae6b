using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Tests.Lenses;

public sealed class LensTargetFileNameTests
{
    // The characters Windows refuses in a file name (Path.GetInvalidFileNameChars on Linux lists only '/' and NUL).
    private static readonly char[] WindowsInvalid = "<>:\"/\\|?*".ToCharArray();

    [Fact]
    public void Every_target_kind_has_a_file_name_valid_on_windows_that_the_tool_also_uses()
    {
        var arch = new VitArchitecture("clip", NumLayers: 3, NumHeads: 2, ModelDim: 8, HeadDim: 4, MlpDim: 16, OutputDim: 4, NumTokens: 5, ClsIndex: 0, ImageSize: 8);
        var targets = LensTarget.AllHeads(arch).Cast<LensTarget>()
            .Concat(LensTarget.AllMlps(arch))
            .Concat(Enum.GetValues<ResidualPosition>().SelectMany(p => LensTarget.LayerSweep(arch, p)))
            .ToList();
        foreach (var t in targets)
        {
            Assert.Equal(-1, t.FileName.IndexOfAny(WindowsInvalid));
            Assert.Equal(PictureSweep.Safe(t.Label), t.FileName);
        }
        Assert.Equal(targets.Count, targets.Select(t => t.FileName).Distinct().Count());
        Assert.Equal("resid_post_2", new ResidualTarget(2, ResidualPosition.Post).FileName);
        Assert.Equal("mlp_1", new MlpTarget(1).FileName);
    }
}
