using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// Diffusion Lens: the read-out R (final norm + projection) of the CLS row at a residual site — one cached forward for
/// all targets. Also reads submodule outputs directly (R(o_s)), the baseline the DSL paper shows to fail for heads.
/// </summary>
public sealed class DiffusionLens : ILens
{
    /// <summary>Creates the lens over an encoder.</summary>
    public DiffusionLens(IHookedVit encoder) => Encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));

    /// <inheritdoc />
    public string Name => "DL";

    /// <inheritdoc />
    public IHookedVit Encoder { get; }

    /// <inheritdoc />
    public torch.Tensor ComputeEmbeddings(torch.Tensor pixelValues, IReadOnlyList<LensTarget> targets,
        IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Compute(pixelValues, targets, withClean: false, progress, cancellationToken).Embeddings;

    /// <summary>
    /// <see cref="ComputeEmbeddings"/> [B, N, P] and the clean output embedding [B, P] from the same cached forward: the
    /// cache only reads the residual stream, so the run's own output is a plain forward's (bit for bit). A study that
    /// scores read-outs against the clean output thus runs the encoder once. The caller owns both tensors.
    /// </summary>
    internal (torch.Tensor Embeddings, torch.Tensor Clean) ComputeWithClean(torch.Tensor pixelValues, IReadOnlyList<LensTarget> targets,
        IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (embeddings, clean) = Compute(pixelValues, targets, withClean: true, progress, cancellationToken);
        return (embeddings, clean!);
    }

    private (torch.Tensor Embeddings, torch.Tensor? Clean) Compute(torch.Tensor pixelValues, IReadOnlyList<LensTarget> targets, bool withClean,
        IProgress<LensProgress>? progress, CancellationToken cancellationToken)
    {
        var arch = Encoder.Architecture;
        LensReadouts.CheckPixels(pixelValues, arch);
        foreach (var t in targets) t.Validate(arch);
        cancellationToken.ThrowIfCancellationRequested();
        using var scope = torch.NewDisposeScope();
        using var run = Encoder.RunWithCache(pixelValues,
            CacheRequest.ForNames(LensReadouts.NamesFor(targets, arch), new[] { arch.ClsIndex }));
        var result = Encoder.Readout(LensReadouts.Gather(run.Cache, targets));
        var clean = withClean ? run.Output.clone() : null;
        progress?.Report(new LensProgress("forward", 1, 1));
        return (result.MoveToOuterDisposeScope(), clean?.MoveToOuterDisposeScope());
    }
}
