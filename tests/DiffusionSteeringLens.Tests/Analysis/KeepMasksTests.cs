using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Models.Vit;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Analysis;

/// <summary>The keep-mask builder gives exactly the masks the sites built by hand before it existed.</summary>
public sealed class KeepMasksTests
{
    private static readonly VitArchitecture Arch = new("clip", NumLayers: 3, NumHeads: 4, ModelDim: 8, HeadDim: 2, MlpDim: 16,
        OutputDim: 4, NumTokens: 5, ClsIndex: 0, ImageSize: 8);

    [Fact]
    public void SingleHeadMasksAreOneMinusTheIdentityAndOwnTheirStorage()
    {
        using var scope = torch.NewDisposeScope();
        int n = Arch.NumLayers * Arch.NumHeads;
        var before = (1 - torch.eye(n)).view(n, Arch.NumLayers, Arch.NumHeads);   // the former construction
        var masks = HeadAblation.SingleHeadMasks(Arch);
        TensorAssert.Equal(before, masks, "single-head masks");
        Assert.True(masks.is_contiguous());
    }

    [Fact]
    public void PrefixMasksAblateTheFirstKHeadsOfTheOrder()
    {
        int n = Arch.NumLayers * Arch.NumHeads;
        var order = new[] { 5, 0, 11, 7 };
        var expected = new float[(order.Length + 1) * n];                          // the former loop
        Array.Fill(expected, 1f);
        for (int k = 1; k <= order.Length; k++)
            for (int j = 0; j < k; j++) expected[k * n + order[j]] = 0f;
        Assert.Equal(expected, AblationTrajectories.PrefixMasks(order, order.Length, n));
    }

    [Fact]
    public void SetsBecomeRowsInOrderAndBadIndicesThrow()
    {
        using var scope = torch.NewDisposeScope();
        var masks = KeepMasks.Ablating(new[] { Array.Empty<int>(), new[] { 0, 4 }, new[] { 11 } }, Arch);
        Assert.Equal(new long[] { 3, 3, 4 }, masks.shape);
        Assert.Equal(torch.float32, masks.dtype);
        var flat = masks.reshape(3, 12).data<float>().ToArray();
        Assert.Equal(36 - 3, flat.Count(v => v == 1f));
        Assert.Equal(0f, flat[12 + 0]);
        Assert.Equal(0f, flat[12 + 4]);
        Assert.Equal(0f, flat[24 + 11]);
        Assert.Throws<ArgumentOutOfRangeException>(() => KeepMasks.Values(new[] { new[] { 12 } }, 12));
        Assert.Throws<ArgumentException>(() => KeepMasks.ToTensor(new float[13], Arch));
    }
}
