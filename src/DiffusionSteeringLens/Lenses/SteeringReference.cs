using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// The clean-run quantities σ may scale by, at the same rows as the outputs being steered. Tensors are borrowed: σ must
/// not dispose them.
/// </summary>
/// <param name="ResidualNorm">‖r_final‖ of the clean run's final CLS residual, [..., 1].</param>
/// <param name="MeanHeadWriteNorm">
/// ν: the mean norm of every head's CLS write on the same image, over all heads of the model, [..., 1]; null unless σ
/// asks for it (<see cref="SteeringFunction.UsesMeanHeadWriteNorm"/>).
/// </param>
public sealed record SteeringReference(torch.Tensor ResidualNorm, torch.Tensor? MeanHeadWriteNorm = null);
