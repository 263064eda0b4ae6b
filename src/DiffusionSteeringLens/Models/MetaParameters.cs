using System.Reflection;
using DiffusionSteeringLens.IO;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models;

/// <summary>
/// Turns a model built on the meta device into one with real, uninitialised parameters, for a loader that fills every
/// one of them from a file next. Building on meta skips the random initialisation TorchSharp's layers do in their
/// constructors: for ViT-bigG/14 that was 20 s of drawing random numbers for 1.8 B weights, thrown away by the load.
/// </summary>
internal static class MetaParameters
{
    // TorchSharp keeps a parameter twice: where the forward reads it (a field, or a native module such as Embedding's)
    // and in the registry behind named_parameters, under the checkpoint name. Typed setters (Linear.weight = …) update
    // both; for the library's own parameter fields the field is set and the registry is updated through this protected
    // method, which those setters call too.
    private static readonly MethodInfo Register = typeof(nn.Module).GetMethod("ConditionallyRegisterParameter",
        BindingFlags.Instance | BindingFlags.NonPublic, new[] { typeof(string), typeof(Tensor) })
        ?? throw new MissingMethodException("TorchSharp's Module.ConditionallyRegisterParameter(string, Tensor) was not found.");

    /// <summary>
    /// Loads a model built on meta strictly from <paramref name="source"/>: checks it against the file first (keys,
    /// shapes, dtypes; nothing is allocated yet), then allocates its parameters (<see cref="Allocate"/>) and fills them,
    /// chunk by chunk, so the peak is the compute-dtype weights plus one chunk. Returns the number of tensors loaded.
    /// </summary>
    public static int AllocateAndLoad(nn.Module model, ITensorSource source, StateDictLoadOptions options, Device device, ScalarType dtype)
    {
        StateDictLoader.Load(model, source, options);
        Allocate(model, device, dtype);
        return StateDictLoader.Load(model, source, options);
    }

    /// <summary>
    /// Replaces every meta parameter of <paramref name="root"/> and its submodules by an uninitialised tensor of the same
    /// shape in <paramref name="dtype"/> on <paramref name="device"/>; throws if any parameter or buffer is left on meta.
    /// </summary>
    public static void Allocate(nn.Module root, Device device, ScalarType dtype)
    {
        foreach (var module in root.named_modules().Select(m => m.module).Prepend(root))
        {
            foreach (var (name, old) in module.named_parameters(recurse: false).ToList())
            {
                if (old.device_type != DeviceType.META) continue;
                var fresh = new Parameter(torch.empty(old.shape, dtype, device), old.requires_grad);
                var property = module.GetType().GetProperty(name, BindingFlags.Instance | BindingFlags.Public);
                if (property is { CanWrite: true } && property.PropertyType.IsAssignableFrom(typeof(Parameter)))
                    property.SetValue(module, fresh); // typed setter (Linear.weight = …): the field or native module, and the registry
                else
                {
                    if (FieldHolding(module, old) is { } field) field.SetValue(module, fresh); // the library's own parameter fields
                    Register.Invoke(module, new object[] { name, fresh });
                }
                old.Dispose();
            }
        }
        var left = root.named_parameters().Where(p => p.parameter.device_type == DeviceType.META).Select(p => p.name)
            .Concat(root.named_buffers().Where(b => b.buffer.device_type == DeviceType.META).Select(b => b.name)).ToList();
        if (left.Count > 0)
            throw new InvalidOperationException($"left on the meta device after allocating: {string.Join(", ", left.Take(10))}");
    }

    private static FieldInfo? FieldHolding(nn.Module module, Parameter parameter)
    {
        for (var type = module.GetType(); type is not null && type != typeof(object); type = type.BaseType)
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                if (typeof(Parameter).IsAssignableFrom(field.FieldType) && ReferenceEquals(field.GetValue(module), parameter))
                    return field;
        return null;
    }
}
