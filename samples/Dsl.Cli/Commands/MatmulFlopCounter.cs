using TorchSharp;
using TorchSharp.Modules;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>
/// Matmul + convolution FLOPs (2 per multiply-add) of one run of a model, counted from the shapes its layers actually see:
/// every Conv2d (output elements × input channels per group × kernel area), every Linear (output elements × input
/// features) and, per attention block (a module with <c>to_q</c>), the two attention products 2 · 2 · B·L_q·L_k·C, where
/// L_k counts the keys of <c>to_k</c> (self) and <c>add_k_proj</c> (added context). Counting the layers that run, at the
/// sizes they run at, keeps the count true to the config and the latent size without a second description of the
/// architecture. Norms, activations, resampling and softmax are not counted (they are not matmuls).
/// </summary>
internal sealed class MatmulFlopCounter
{
    private double _flops;
    private readonly Dictionary<string, (long Rows, long Tokens, long Channels)> _queries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _keys = new(StringComparer.Ordinal);

    /// <summary>GFLOP of one call of <paramref name="run"/> on <paramref name="model"/>.</summary>
    public static double Gflop(torch.nn.Module model, Action run)
    {
        var counter = new MatmulFlopCounter();
        var removers = new List<Action>();
        try
        {
            foreach (var (name, module) in model.named_modules())
            {
                switch (module)
                {
                    case Conv2d conv:
                        var convHook = conv.register_forward_hook((m, input, output) =>
                        {
                            var w = conv.weight!;
                            counter._flops += 2.0 * output.numel() * (w.numel() / w.shape[0]);
                            return output;
                        });
                        removers.Add(convHook.remove);
                        break;
                    case Linear linear:
                        string layer = name;
                        var linearHook = linear.register_forward_hook((m, input, output) =>
                        {
                            counter.OnLinear(layer, output, linear.weight!.shape[1]);
                            return output;
                        });
                        removers.Add(linearHook.remove);
                        break;
                }
            }
            run();
        }
        finally
        {
            foreach (var remove in removers) remove();
        }
        return counter.Total() / 1e9;
    }

    private void OnLinear(string name, torch.Tensor output, long inFeatures)
    {
        _flops += 2.0 * output.numel() * inFeatures;
        int dot = name.LastIndexOf('.');
        string parent = dot < 0 ? "" : name[..dot], leaf = name[(dot + 1)..];
        long channels = output.shape[^1], tokens = output.ndim >= 3 ? output.shape[^2] : 1, rows = output.numel() / Math.Max(1, channels * tokens);
        if (leaf == "to_q") _queries[parent] = (rows, tokens, channels);
        else if (leaf is "to_k" or "add_k_proj") _keys[parent] = _keys.GetValueOrDefault(parent) + tokens;
    }

    // Scores (q·kᵀ) and mix (p·v) of each attention block that ran.
    private double Total() => _flops + _queries.Sum(q => 4.0 * q.Value.Rows * q.Value.Tokens * _keys.GetValueOrDefault(q.Key) * q.Value.Channels);
}
