using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// A lens maps (input images, targets) to output-space embeddings, one per image and target, which a decoder turns into
/// pictures (<see cref="LensRenderer"/>). Lenses know the encoder only through <see cref="IHookedVit"/>.
/// </summary>
public interface ILens
{
    /// <summary>Short name for reports (e.g. <c>DL</c>, <c>DSL</c>).</summary>
    string Name { get; }

    /// <summary>The encoder the lens reads.</summary>
    IHookedVit Encoder { get; }

    /// <summary>Embeddings [B, N, P] for B images and N targets (in the given order). The caller owns the result.</summary>
    /// <exception cref="ArgumentException">A target this lens does not support, or a bad pixel tensor.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A target outside the model (layer/head index).</exception>
    torch.Tensor ComputeEmbeddings(torch.Tensor pixelValues, IReadOnlyList<LensTarget> targets,
        IProgress<LensProgress>? progress = null, CancellationToken cancellationToken = default);
}
