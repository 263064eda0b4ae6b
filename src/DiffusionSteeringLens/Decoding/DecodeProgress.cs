namespace DiffusionSteeringLens.Decoding;

/// <summary>Progress of <see cref="IEmbeddingDecoder.Decode"/>, reported after each denoising step of each chunk of pictures.</summary>
/// <param name="Step">Steps finished in the current chunk (1-based).</param>
/// <param name="TotalSteps">Steps per chunk.</param>
/// <param name="Timestep">The timestep just denoised.</param>
/// <param name="FirstImage">Index of the chunk's first image.</param>
/// <param name="ImageCount">Images in the chunk (1 for a decoder that denoises pictures one at a time, as Kandinsky 2.2's does).</param>
/// <param name="TotalImages">Images in the whole call.</param>
public sealed record DecodeProgress(int Step, int TotalSteps, long Timestep, int FirstImage, int ImageCount, int TotalImages)
{
    /// <summary>Overall fraction done, in [0, 1].</summary>
    public double Fraction => TotalImages == 0 ? 1.0 : (FirstImage + ImageCount * (Step / (double)TotalSteps)) / TotalImages;
}
