namespace DiffusionSteeringLens.Models.Kandinsky.Layers;

/// <summary>Resampling a <see cref="ResnetBlock2D"/> does between its first norm and first conv (weight-free).</summary>
internal enum ResnetResample
{
    /// <summary>Keep the resolution.</summary>
    None,
    /// <summary>Nearest-neighbour ×2 (diffusers <c>up=True</c>).</summary>
    Up,
    /// <summary>2×2 average pooling, stride 2 (diffusers <c>down=True</c>).</summary>
    Down,
}
