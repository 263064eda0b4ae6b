using TorchSharp;

namespace DiffusionSteeringLens.IO;

/// <summary>
/// Strict state-dict loading. Unlike TorchSharp's <c>load_state_dict</c>, it never broadcasts shapes or silently
/// casts between integer and floating types, and it reports every problem in one exception.
/// </summary>
/// <remarks>Floating-point checkpoints convert to the module's floating dtype (fp16 checkpoints upcast to fp32 on CPU).</remarks>
internal static class StateDictLoader
{
    /// <summary>Checks every key first, then copies the tensors into the module's parameters and buffers, one at a time (<see cref="ITensorSource.CopyInto"/>).</summary>
    /// <returns>The number of tensors copied.</returns>
    /// <exception cref="StateDictMismatchException">Any missing, unexpected, mis-shaped or mis-typed key.</exception>
    public static int Load(torch.nn.Module module, ITensorSource source, StateDictLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(source);
        options ??= new StateDictLoadOptions();
        var target = module.state_dict();
        var rename = options.RenameCheckpointKey ?? (k => k);
        var sourceByTarget = new Dictionary<string, string>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        foreach (var key in source.Names.OrderBy(k => k, StringComparer.Ordinal))
        {
            var mapped = rename(key);
            if (target.ContainsKey(mapped)) sourceByTarget[mapped] = key;
            else if (!StateDictLoadOptions.Matches(options.IgnoreUnexpected, key)) unexpected.Add(key);
        }

        var missing = new List<string>();
        var shapes = new List<string>();
        var dtypes = new List<string>();
        foreach (var (name, tensor) in target)
        {
            if (!sourceByTarget.TryGetValue(name, out var sourceKey))
            {
                if (!StateDictLoadOptions.Matches(options.AllowMissing, name)) missing.Add($"{name} {Shape(tensor.shape)}");
                continue;
            }
            var info = source.GetInfo(sourceKey);
            if (!info.Shape.SequenceEqual(tensor.shape))
                shapes.Add($"{sourceKey}: checkpoint {info.ShapeText} vs module {Shape(tensor.shape)}");
            if (!Compatible(info.ScalarType, tensor.dtype))
                dtypes.Add($"{sourceKey}: checkpoint {info.DType} vs module {tensor.dtype}");
        }
        if (missing.Count + unexpected.Count + shapes.Count + dtypes.Count > 0)
            throw new StateDictMismatchException(source.SourcePath, options.ModuleName ?? module.GetName(), missing, unexpected, shapes, dtypes);

        int copied = 0;
        using (torch.no_grad())
        {
            foreach (var (name, sourceKey) in sourceByTarget)
            {
                var dest = target[name];
                if (dest.device_type != DeviceType.META) source.CopyInto(sourceKey, dest); // converts dtype and device; META: shape-only build, nothing to fill
                copied++;
            }
        }
        return copied;
    }

    private static bool Compatible(torch.ScalarType checkpoint, torch.ScalarType module) =>
        checkpoint == module || (SafetensorsDType.IsFloating(checkpoint) && SafetensorsDType.IsFloating(module));

    private static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
