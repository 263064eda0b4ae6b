namespace DiffusionSteeringLens.Hooks;

/// <summary>One hook function bound to one named hook point for a single run. Bindings on the same point apply in order.</summary>
/// <param name="HookName">A name from <see cref="HookNames"/>.</param>
/// <param name="Function">What to do there.</param>
public sealed record HookBinding(string HookName, HookFunction Function);
