using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Tests.Kandinsky.Unet;

/// <summary>The UNet's named hook points: what fires, in which order, and that a hook's result is what the model continues with.</summary>
public sealed class UnetHookPointTests
{
    // The golden UNet and its first case; the caller disposes the model and the file.
    private static (UNet2DConditionModel Model, SafetensorsFile Cases, Tensor Sample, Tensor Timestep, Tensor Embeds) Golden()
    {
        string folder = Fixtures.Golden("unet");
        var model = UNet2DConditionModel.FromPretrained(folder);
        var cases = SafetensorsFile.Open(Path.Combine(folder, "cases.safetensors"));
        return (model, cases, cases.Load("case0.sample"), cases.Load("case0.timestep"), cases.Load("case0.image_embeds"));
    }

    /// <summary>Observing hooks on every point fire once each, in <see cref="UNet2DConditionModel.HookPointNames"/> order, and change nothing.</summary>
    [Fact]
    public void EveryPointFiresOnceInListedOrderAndObservingChangesNothing()
    {
        using var scope = NewDisposeScope();
        var (model, cases, sample, timestep, embeds) = Golden();
        using var _ = model;
        using var __ = cases;
        var fired = new List<string>();
        var observe = model.HookPointNames.Select(n => new HookBinding(n, (t, name) => { fired.Add(name); return t; })).ToList();
        using var plain = model.Predict(sample, timestep, embeds);
        Tensor hooked;
        using (no_grad()) hooked = model.RunWithHooks(sample, timestep, embeds, observe);
        Assert.Equal(model.HookPointNames, fired);
        Assert.Contains("mid_block.attentions.0", fired);
        Assert.Contains("down_blocks.0.downsamplers.0", fired);
        Assert.Equal(fired.Count, fired.Distinct().Count());
        TensorAssert.Equal(plain, hooked, "observing hooks");
        hooked.Dispose();
    }

    /// <summary>A hook's return value replaces the activation; the binding ends with the call.</summary>
    [Fact]
    public void HookResultReplacesActivationForThisCallOnly()
    {
        using var scope = NewDisposeScope();
        var (model, cases, sample, timestep, embeds) = Golden();
        using var _ = model;
        using var __ = cases;
        using var plain = model.Predict(sample, timestep, embeds);
        using (no_grad())
        {
            using var zeroed = model.RunWithHooks(sample, timestep, embeds,
                new[] { new HookBinding("conv_out", (t, _) => zeros_like(t)) });
            Assert.Equal(0.0, zeroed.abs().max().item<float>());
            using var midAblated = model.RunWithHooks(sample, timestep, embeds,
                new[] { new HookBinding("mid_block", (t, _) => zeros_like(t)) });
            Assert.True(midAblated.sub(plain).abs().max().item<float>() > 1e-3f, "zeroing the mid block's output must change the prediction");
        }
        using var after = model.Predict(sample, timestep, embeds);
        TensorAssert.Equal(plain, after, "plain run after hooked runs");
    }

    /// <summary>A binding to a name the UNet does not have is refused before the forward runs, naming it.</summary>
    [Fact]
    public void UnknownHookNameIsRefused()
    {
        using var scope = NewDisposeScope();
        var (model, cases, sample, timestep, embeds) = Golden();
        using var _ = model;
        using var __ = cases;
        var error = Assert.Throws<ArgumentException>(() =>
            model.RunWithHooks(sample, timestep, embeds, new[] { new HookBinding("blocks.0.hook_resid_pre", (t, _) => t) }));
        Assert.Contains("'blocks.0.hook_resid_pre'", error.Message, StringComparison.Ordinal);
    }
}
