using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// The Diffusion Steering Lens (DSL; the class is named <c>SteeringLens</c> so it does not collide with the
/// <c>DiffusionSteeringLens</c> namespace in user code): the direct contribution of one submodule (head or MLP). Steer its output with σ, hold every
/// submodule that runs after it at its clean value, and read out the final CLS residual. Under full patching this is
/// exactly R(r_final + σ(o_s) − o_s) at the CLS row, computed for all targets from one cached forward and one batched
/// read-out; the hook-based path (one forward per target) supports partial patching and all-token steering, and agrees
/// with the closed form where both apply.
/// </summary>
public sealed class SteeringLens : ILens
{
    /// <summary>Creates the lens.</summary>
    public SteeringLens(IHookedVit encoder, SteeringOptions? options = null)
    {
        Encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        Options = options ?? new SteeringOptions();
    }

    /// <inheritdoc />
    public string Name => "DSL";

    /// <inheritdoc />
    public IHookedVit Encoder { get; }

    /// <summary>The steering options in use.</summary>
    public SteeringOptions Options { get; }

    /// <summary>True when these options are computed in closed form.</summary>
    public bool UsesClosedForm => Options.Computation switch
    {
        DslComputation.ClosedForm => true,
        DslComputation.HookBased => false,
        _ => Options.Patching == PatchingMode.Full,
    };

    /// <inheritdoc />
    public Tensor ComputeEmbeddings(Tensor pixelValues, IReadOnlyList<LensTarget> targets,
        IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var arch = Encoder.Architecture;
        LensReadouts.CheckPixels(pixelValues, arch);
        var submodules = targets.Select(t => t as SubmoduleTarget
            ?? throw new ArgumentException($"DSL steers submodules (heads, MLPs); '{t.Label}' is a residual site — use DiffusionLens for it.", nameof(targets))).ToArray();
        foreach (var t in submodules) t.Validate(arch);
        if (Options.Computation == DslComputation.ClosedForm && Options.Patching != PatchingMode.Full)
            throw new ArgumentException("The closed form holds only under full patching; use DslComputation.HookBased or Auto.", nameof(Options));
        return UsesClosedForm
            ? ClosedForm(pixelValues, submodules, new[] { Options.Steering }, progress, cancellationToken)[0]
            : HookBased(pixelValues, submodules, progress, cancellationToken);
    }

    /// <summary>
    /// The read-outs [B, N, P] of the same targets under several steering functions (every other option as this lens's):
    /// in closed form from one cached forward, else one lens per function. Used by the head scores that compare the
    /// steered read-out with the removed and mirrored ones.
    /// </summary>
    internal Tensor[] ComputeEmbeddingsUnder(Tensor pixelValues, IReadOnlyList<LensTarget> targets, IReadOnlyList<SteeringFunction> steerings,
        CancellationToken cancellationToken = default)
    {
        if (Options.Computation == DslComputation.ClosedForm && Options.Patching != PatchingMode.Full)
            throw new ArgumentException("The closed form holds only under full patching; use DslComputation.HookBased or Auto.", nameof(Options));
        if (!UsesClosedForm)
            return steerings.Select(s => new SteeringLens(Encoder, Options with { Steering = s }).ComputeEmbeddings(pixelValues, targets, null, cancellationToken)).ToArray();
        var arch = Encoder.Architecture;
        LensReadouts.CheckPixels(pixelValues, arch);
        var submodules = targets.Select(t => t as SubmoduleTarget
            ?? throw new ArgumentException($"DSL steers submodules (heads, MLPs); '{t.Label}' is a residual site — use DiffusionLens for it.", nameof(targets))).ToArray();
        foreach (var t in submodules) t.Validate(arch);
        return ClosedForm(pixelValues, submodules, steerings, null, cancellationToken);
    }

    /// <summary>
    /// This lens's read-outs [B, N, P] of submodule targets together with DL's direct read-outs R(o_s) [B, N, P] of the
    /// same targets and the clean output embedding [B, P]. In closed form all three come from one cached forward (the
    /// DL read-out and the clean output need nothing the DSL run does not already hold), so a study that shows both
    /// lenses runs the encoder once; otherwise the hook-based DSL runs, then one DL forward and one plain forward.
    /// </summary>
    internal SteeredAndDirectReadouts ComputeWithDirect(Tensor pixelValues, IReadOnlyList<LensTarget> targets,
        IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (!UsesClosedForm || Options.Computation == DslComputation.ClosedForm && Options.Patching != PatchingMode.Full)
        {
            using var scope = NewDisposeScope();
            var s = ComputeEmbeddings(pixelValues, targets, progress, cancellationToken);
            var d = new DiffusionLens(Encoder).ComputeEmbeddings(pixelValues, targets, null, cancellationToken);
            var c = Encoder.Forward(pixelValues);
            return new SteeredAndDirectReadouts(s.MoveToOuterDisposeScope(), d.MoveToOuterDisposeScope(), c.MoveToOuterDisposeScope());
        }
        var arch = Encoder.Architecture;
        LensReadouts.CheckPixels(pixelValues, arch);
        var submodules = targets.Select(t => t as SubmoduleTarget
            ?? throw new ArgumentException($"DSL steers submodules (heads, MLPs); '{t.Label}' is a residual site — use DiffusionLens for it.", nameof(targets))).ToArray();
        foreach (var t in submodules) t.Validate(arch);
        Tensor? direct = null, clean = null;
        // The callback runs inside the closed form's dispose scope; what it keeps is moved out of it.
        try
        {
            var steered = ClosedForm(pixelValues, submodules, new[] { Options.Steering }, progress, cancellationToken, (run, outputs) =>
            {
                direct = Encoder.Readout(outputs).MoveToOuterDisposeScope();   // R(o_s): DiffusionLens on the same targets
                clean = run.Output.clone().MoveToOuterDisposeScope();          // the run's own output = a plain forward
            })[0];
            return new SteeredAndDirectReadouts(steered, direct!, clean!);
        }
        catch
        {
            direct?.Dispose();
            clean?.Dispose();
            throw;
        }
    }

    private Tensor[] ClosedForm(Tensor pixels, SubmoduleTarget[] targets, IReadOnlyList<SteeringFunction> steerings, IProgress<LensProgress>? progress,
        CancellationToken ct, Action<VitRun, Tensor>? alsoFromRun = null)
    {
        var arch = Encoder.Architecture;
        ct.ThrowIfCancellationRequested();
        using var scope = NewDisposeScope();
        bool needsNu = steerings.Any(s => s.UsesMeanHeadWriteNorm);
        var names = LensReadouts.NamesFor(targets, arch);
        if (needsNu) names = names.Concat(LensReadouts.AllResultNames(arch)).Distinct();
        using var run = Encoder.RunWithCache(pixels, CacheRequest.ForNames(names, new[] { arch.ClsIndex }));
        var final = run.Cache[HookNames.ResidPost(arch.NumLayers - 1)].select(1, 0); // [B, D]
        var outputs = LensReadouts.Gather(run.Cache, targets);                        // [B, N, D]
        alsoFromRun?.Invoke(run, outputs);
        long b = outputs.shape[0], n = outputs.shape[1];
        var norm = final.norm(-1, keepdim: true).unsqueeze(1).expand(b, n, 1);
        var nu = needsNu ? LensReadouts.MeanHeadWriteNorm(run.Cache, arch).unsqueeze(1).expand(b, n, 1) : null;
        var embeddings = steerings.Select(steering =>
        {
            var steered = ApplySteering(steering, outputs, new SteeringReference(norm, nu), targets);
            var residual = final.unsqueeze(1) + (steered - outputs);                      // [B, N, D]
            return (Options.Readout == ReadoutMode.FrozenLayerNorm
                ? Encoder.ReadoutFrozen(residual, Encoder.ReadoutScale(final).unsqueeze(1)) // scale [B, 1, 1] of the clean residual
                : Encoder.Readout(residual)).MoveToOuterDisposeScope();                  // [B, N, P]
        }).ToArray();
        progress?.Report(new LensProgress("closed form", 1, 1));
        return embeddings;
    }

    /// <summary>True for the library's element-wise σ, which apply to a whole [B, N, D] stack at once.</summary>
    private static bool AppliesToStacks(SteeringFunction steering) =>
        steering is ScaleSteering or RelativeSteering or GlobalScaleSteering || steering is MirroredSteering m && AppliesToStacks(m.Inner);

    /// <summary>σ over a [B, N, D] stack: one batched call for built-ins, per target for custom functions.</summary>
    private static Tensor ApplySteering(SteeringFunction steering, Tensor outputs, SteeringReference reference, SubmoduleTarget[] targets)
    {
        if (AppliesToStacks(steering))
            return steering.Apply(outputs, reference, targets[0]);
        using var scope = NewDisposeScope();
        var columns = targets.Select((t, i) => steering.Apply(outputs.select(1, i),
            new SteeringReference(reference.ResidualNorm.select(1, i), reference.MeanHeadWriteNorm?.select(1, i)), t)).ToArray();
        return stack(columns, 1).MoveToOuterDisposeScope();
    }

    private Tensor HookBased(Tensor pixels, SubmoduleTarget[] targets, IProgress<LensProgress>? progress, CancellationToken ct)
    {
        var arch = Encoder.Architecture;
        int last = arch.NumLayers - 1;
        using var scope = NewDisposeScope();
        var names = Enumerable.Range(0, arch.NumLayers).SelectMany(l => new[] { HookNames.AttnOut(l), HookNames.MlpOut(l) })
            .Append(HookNames.ResidPost(last));
        using var clean = Encoder.RunWithCache(pixels, CacheRequest.ForNames(names));
        var cleanFinal = clean.Cache[HookNames.ResidPost(last)].select(1, arch.ClsIndex);   // [B, D]
        var finalNorm = cleanFinal.norm(-1, keepdim: true);                                 // [B, 1]
        Tensor? nu = null;
        if (Options.Steering.UsesMeanHeadWriteNorm)
        {
            // Head results are cached at the CLS row only: every token would cost B·T·H·D per layer.
            using var heads = Encoder.RunWithCache(pixels, CacheRequest.ForNames(LensReadouts.AllResultNames(arch), new[] { arch.ClsIndex }));
            nu = LensReadouts.MeanHeadWriteNorm(heads.Cache, arch);                         // [B, 1]
        }
        var frozenScale = Options.Readout == ReadoutMode.FrozenLayerNorm ? Encoder.ReadoutScale(cleanFinal) : null; // [B, 1]
        var results = new Tensor[targets.Length];
        for (int i = 0; i < targets.Length; i++)
        {
            ct.ThrowIfCancellationRequested();
            var hooks = new List<HookBinding> { SteerHook(targets[i], finalNorm, nu, arch) };
            hooks.AddRange(PatchHooks(targets[i], clean.Cache, arch));
            results[i] = frozenScale is null ? Encoder.RunWithHooks(pixels, hooks) : FrozenRun(pixels, hooks, frozenScale, arch);
            progress?.Report(new LensProgress("steered runs", i + 1, targets.Length));
        }
        return stack(results, 1).MoveToOuterDisposeScope();
    }

    /// <summary>A hooked run read out with the clean run's LayerNorm scale: [B, P].</summary>
    private Tensor FrozenRun(Tensor pixels, IReadOnlyList<HookBinding> hooks, Tensor scale, VitArchitecture arch)
    {
        using var run = Encoder.RunWithCache(pixels, CacheRequest.ForNames(new[] { HookNames.ResidPost(arch.NumLayers - 1) }, new[] { arch.ClsIndex }), hooks);
        using var final = run.Cache[HookNames.ResidPost(arch.NumLayers - 1)].select(1, 0); // [B, D]
        return Encoder.ReadoutFrozen(final, scale);
    }

    private HookBinding SteerHook(SubmoduleTarget target, Tensor finalNorm, Tensor? nu, VitArchitecture arch)
    {
        var steering = Options.Steering;
        bool clsOnly = Options.Scope == SteeringScope.ClsOnly;
        int cls = arch.ClsIndex;
        return new HookBinding(target.HookName, (act, _) =>
        {
            // act: [B, T, H, D] for a head result, [B, T, D] for an MLP output. Upstream of s nothing changed, so act is clean.
            var outScope = act.clone();
            using var inner = NewDisposeScope();
            Tensor site = target is HeadTarget h ? outScope.select(2, h.Head) : outScope;       // [B, T, D]
            Tensor region = clsOnly ? site.narrow(1, cls, 1) : site;                           // [B, T', D]
            var shape = new[] { region.shape[0], region.shape[1], 1L };
            var reference = new SteeringReference(finalNorm.unsqueeze(1).expand(shape), nu?.unsqueeze(1).expand(shape));
            var steered = steering.Apply(region, reference, target);
            region.copy_(steered);
            return outScope;
        });
    }

    private IEnumerable<HookBinding> PatchHooks(SubmoduleTarget target, ActivationCache clean, VitArchitecture arch)
    {
        if (Options.Patching == PatchingMode.None) yield break;
        bool patchMlps = Options.Patching == PatchingMode.Full;
        // A head runs before its own layer's MLP: that MLP is downstream too.
        if (target is HeadTarget && patchMlps) yield return Patch(HookNames.MlpOut(target.Layer), clean);
        for (int l = target.Layer + 1; l < arch.NumLayers; l++)
        {
            yield return Patch(HookNames.AttnOut(l), clean);
            if (patchMlps) yield return Patch(HookNames.MlpOut(l), clean);
        }
    }

    private static HookBinding Patch(string name, ActivationCache clean)
    {
        var value = clean[name];
        return new HookBinding(name, (_, _) => value.alias());
    }
}
