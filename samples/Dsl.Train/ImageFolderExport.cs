using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.Synthetic;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>
/// Phase "marked-images": writes <c>--image-count</c> marked-shapes images drawn with <c>--image-seed</c> as PNGs to
/// OUTPUT/marked-images-SEED/, plus the ground truth of each, so `dsl validate --images` can study a testbed encoder.
/// </summary>
internal static class ImageFolderExport
{
    public static void Run(TrainOptions o)
    {
        var folder = Path.Combine(o.Output, $"marked-images-{o.ImageSeed}");
        Directory.CreateDirectory(folder);
        var attrs = MarkedShapeDomain.Sample(o.ImageCount, o.ImageSeed);
        using var scope = NewDisposeScope();
        var images = MarkedShapeDomain.Render(attrs);
        var lines = new List<string>();
        for (int i = 0; i < attrs.Count; i++)
        {
            var name = $"{i:D4}.png";
            ImageIO.SavePng(images, i, Path.Combine(folder, name));
            lines.Add($"{name}\t{attrs[i]}");
        }
        File.WriteAllLines(Path.Combine(folder, "truth.tsv"), lines);
        Log.Line($"marked-images: wrote {attrs.Count} images (seed {o.ImageSeed}) to {folder}");
    }
}
