using TorchSharp;

namespace DiffusionSteeringLens.Hooks;

/// <summary>
/// A function bound to a hook point: receives the activation and returns the value the model continues with (the same
/// tensor to only observe, a new one to intervene). It must not dispose its input.
/// </summary>
/// <param name="activation">The activation at the hook point, in the layout documented on <see cref="HookNames"/>.</param>
/// <param name="hookName">The point's name (one function may be bound to many points).</param>
public delegate torch.Tensor HookFunction(torch.Tensor activation, string hookName);
