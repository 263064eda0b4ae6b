using TorchSharp;

namespace DiffusionSteeringLens.Analysis;

/// <summary>Similarity of pictures, pluggable. Pictures are [N, 3, H, W] in [0, 1]; the result has one value per row.</summary>
public interface IImageSimilarity
{
    /// <summary>Name for reports.</summary>
    string Name { get; }

    /// <summary>Similarity of each picture in <paramref name="pictures"/> to the matching row of <paramref name="references"/>
    /// (a single reference [1, 3, H, W] broadcasts).</summary>
    double[] Similarity(torch.Tensor pictures, torch.Tensor references);
}
