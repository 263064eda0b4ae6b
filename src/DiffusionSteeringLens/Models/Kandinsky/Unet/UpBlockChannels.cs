namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>Channel bookkeeping of the up blocks' resnets (identical in every diffusers up block).</summary>
internal static class UpBlockChannels
{
    /// <summary>
    /// In-channels of resnet <paramref name="index"/>: incoming hidden channels (the previous level's output for the
    /// first resnet, this block's output afterwards) plus the skip's channels, where only the last resnet's skip comes
    /// from the level below (<paramref name="inChannels"/>).
    /// </summary>
    public static int ResnetIn(int index, int numLayers, int inChannels, int prevOutputChannels, int outChannels)
    {
        int skip = index == numLayers - 1 ? inChannels : outChannels;
        int hidden = index == 0 ? prevOutputChannels : outChannels;
        return hidden + skip;
    }
}
