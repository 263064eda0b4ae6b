namespace DiffusionSteeringLens.Imaging;

/// <summary>Pillow resampling filters supported by <see cref="PilResampler"/>; the values are Pillow's filter ids.</summary>
internal enum PilResampleFilter
{
    /// <summary>Nearest neighbour (<c>Image.NEAREST</c> = 0).</summary>
    Nearest = 0,
    /// <summary>Antialiased triangle filter (<c>Image.BILINEAR</c> = 2).</summary>
    Bilinear = 2,
    /// <summary>Antialiased cubic convolution with a = −0.5 (<c>Image.BICUBIC</c> = 3).</summary>
    Bicubic = 3,
}
