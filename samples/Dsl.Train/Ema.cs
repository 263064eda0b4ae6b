using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>Exponential moving average of a module's parameters (decay min(max, (1+k)/(10+k)), as diffusers' EMAModel).</summary>
internal sealed class Ema : IDisposable
{
    private readonly List<(string Name, Tensor Live, Tensor Shadow)> _items = new();
    private readonly double _maxDecay;
    private int _updates;

    public Ema(nn.Module module, double maxDecay)
    {
        _maxDecay = maxDecay;
        using var _ = no_grad();
        foreach (var (name, p) in module.named_parameters())
            _items.Add((name, p, p.detach().clone().DetachFromDisposeScope()));
    }

    public void Update()
    {
        double decay = Math.Min(_maxDecay, (1.0 + _updates) / (10.0 + _updates));
        _updates++;
        using var _ = no_grad();
        foreach (var (_, live, shadow) in _items)
            shadow.mul_(decay).add_(live, alpha: 1 - decay);
    }

    /// <summary>Restores the averages and the update count of a resumed run (<paramref name="file"/> holds <see cref="StateDict"/>).</summary>
    public void Load(DiffusionSteeringLens.IO.SafetensorsFile file, int updates)
    {
        using var _ = no_grad();
        foreach (var (name, _, shadow) in _items) { using var t = file.Load(name); shadow.copy_(t); }
        _updates = updates;
    }

    /// <summary>The module's state dict with every parameter replaced by its average (buffers as they are).</summary>
    public Dictionary<string, Tensor> StateDict(nn.Module module)
    {
        var dict = module.state_dict();
        foreach (var (name, _, shadow) in _items) dict[name] = shadow;
        return dict;
    }

    public void Dispose()
    {
        foreach (var (_, _, shadow) in _items) shadow.Dispose();
        _items.Clear();
    }
}
