using DiffusionSteeringLens.Lenses;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// Turns image embeddings into pictures: the seam between experiments and a decoder. In the <c>dsl</c> tool it is
/// <see cref="LensRenderer.Decode"/> with fixed sampling options (the library's one renderer, shared seed); tests plug in
/// a stand-in.
/// </summary>
/// <param name="embeddings">[N, P] embeddings.</param>
/// <param name="cancellationToken">Cancels the render.</param>
/// <returns>Pictures [N, 3, H, W] in [0, 1] (float, CPU); the caller owns the tensor.</returns>
public delegate torch.Tensor EmbeddingRenderer(torch.Tensor embeddings, CancellationToken cancellationToken);
