using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Tests.Vit;

/// <summary>
/// A family written outside the library with only its public surface: hook points created by name
/// (<c>new HookPoint(name)</c>) are bound to the model's run state by <c>CompleteSetup</c>, so caching and hooks work
/// without the family ever seeing the run state.
/// </summary>
public sealed class CustomFamilyTests
{
    /// <summary>
    /// Pixels [B, 3, 2, 2] → four patch tokens of width 3 plus a CLS token (their mean); one block whose "MLP" squares
    /// the residual element-wise; read-out = final LayerNorm of the CLS row.
    /// </summary>
    private sealed class TinyFamily : HookedVitModel
    {
        private readonly HookPoint hook_embed = new(HookNames.Embed);
        private readonly HookPoint hook_resid_pre = new(HookNames.ResidPre(0));
        private readonly HookPoint hook_mlp_out = new(HookNames.MlpOut(0));
        private readonly HookPoint hook_resid_post = new(HookNames.ResidPost(0));
        private readonly LayerNorm ln_final = nn.LayerNorm(3);

        public TinyFamily() : base(nameof(TinyFamily), CPU, ScalarType.Float32)
        {
            RegisterComponents();
            CompleteSetup(new VitArchitecture("tiny", NumLayers: 1, NumHeads: 1, ModelDim: 3, HeadDim: 3, MlpDim: 3, OutputDim: 3,
                NumTokens: 5, ClsIndex: 0, ImageSize: 2));
        }

        protected override Tensor ForwardCore(Tensor pixelValues)
        {
            var patches = pixelValues.flatten(2).transpose(1, 2);                          // [B, 4, 3]
            var tokens = hook_embed.call(cat(new[] { patches.mean(new long[] { 1 }, keepdim: true), patches }, 1));
            var resid = hook_resid_pre.call(tokens);
            var post = hook_resid_post.call(resid + hook_mlp_out.call(resid * resid));
            return ReadoutCore(post.select(1, 0));
        }

        protected override Tensor ReadoutCore(Tensor residual) => ln_final.call(residual);

        protected override LayerNorm ReadoutNorm => ln_final;

        protected override double ReadoutNormEps => 1e-5;

        protected override Tensor ReadoutHead(Tensor normalised) => normalised;
    }

    private static Tensor Pixels() => arange(2 * 3 * 2 * 2, dtype: ScalarType.Float32).view(2, 3, 2, 2).sin();

    [Fact]
    public void HookPointsCreatedByNameAreBoundAndCache()
    {
        using var model = new TinyFamily();
        using var scope = NewDisposeScope();   // the temporaries of the checks
        Assert.Equal(new[] { HookNames.Embed, HookNames.ResidPre(0), HookNames.MlpOut(0), HookNames.ResidPost(0) }, model.HookPointNames);
        using var pixels = Pixels();
        using var run = model.RunWithCache(pixels, CacheRequest.All);
        // The cached residual after the block is e + e² of the embedding e, and the output is the read-out of its CLS row.
        var e = run.Cache[HookNames.Embed];
        Assert.True(run.Cache[HookNames.ResidPost(0)].allclose(e + e * e, rtol: 1e-6, atol: 1e-6));
        using var expected = model.Readout(run.Cache[HookNames.ResidPost(0)].select(1, 0));
        Assert.True(run.Output.allclose(expected, rtol: 1e-6, atol: 1e-6));
    }

    [Fact]
    public void HooksBoundByTheBaseChangeTheForward()
    {
        using var model = new TinyFamily();
        using var pixels = Pixels();
        using var clean = model.Forward(pixels);
        using var run = model.RunWithCache(pixels, CacheRequest.All, new[] { Interventions.Scale(HookNames.MlpOut(0), 0) });
        // With the MLP silenced the residual stays the embedding: the output is the read-out of the embedding's CLS row.
        Assert.True(run.Cache[HookNames.ResidPost(0)].allclose(run.Cache[HookNames.Embed], rtol: 0, atol: 0));
        using var expected = model.Readout(run.Cache[HookNames.Embed].select(1, 0));
        Assert.True(run.Output.allclose(expected, rtol: 1e-6, atol: 1e-6));
        Assert.False(run.Output.allclose(clean, rtol: 1e-3, atol: 1e-3));
    }

    [Fact]
    public void AnUnboundPointPassesThroughAndAPointBelongsToOneModel()
    {
        using var point = new HookPoint(HookNames.ResidPost(0));
        using var x = ones(2, 5, 3);
        Assert.Same(x, point.call(x));
        Assert.False(point.IsActive);
        point.Bind(new HookRuntime());
        var e = Assert.Throws<InvalidOperationException>(() => point.Bind(new HookRuntime()));
        Assert.Contains(HookNames.ResidPost(0), e.Message);
    }
}
