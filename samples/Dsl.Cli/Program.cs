using DiffusionSteeringLens.Runtime;
using TorchSharp;

TorchNativeLoader.EnsureLoaded();
using var t = torch.arange(6, torch.float32).reshape(2, 3);
Console.WriteLine($"torch ok: sum={t.sum().item<float>()} patched={TorchNativeLoader.PatchedPath ?? "(plain load)"}");
