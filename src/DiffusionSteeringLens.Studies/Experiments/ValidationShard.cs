using System.Globalization;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// One of <see cref="Count"/> disjoint parts of a validation study's evaluation images (0-based <see cref="Index"/>), for
/// running the per-image measurements on several machines (a Slurm job array, a Kubernetes indexed Job) and merging them.
/// </summary>
/// <param name="Index">This shard, 0 ≤ Index &lt; Count.</param>
/// <param name="Count">Number of shards.</param>
public sealed record ValidationShard(int Index, int Count)
{
    /// <summary>The whole study as one shard.</summary>
    public static ValidationShard Whole { get; } = new(0, 1);

    /// <summary>Parses <c>i/n</c> (0 ≤ i &lt; n); a typed error names the text.</summary>
    /// <exception cref="FormatException">Not of the form i/n with 0 ≤ i &lt; n.</exception>
    public static ValidationShard Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            && int.TryParse(parts[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            && n >= 1 && i < n)
            return new ValidationShard(i, n);
        throw new FormatException($"a shard is i/n with 0 ≤ i < n (e.g. 0/4); got '{text}'.");
    }

    /// <summary>
    /// The evaluation images of this shard: whole blocks of <paramref name="blockSize"/> images, contiguous, shard i taking
    /// blocks ⌊i·B/n⌋ … ⌊(i+1)·B/n⌋ − 1 of B. Whole blocks keep every image in the same forward batch whatever the split, so
    /// its measurements are bit-identical sharded or not.
    /// </summary>
    /// <exception cref="ArgumentException">More shards than blocks (some shard would be empty).</exception>
    public (int First, int Count) Range(int totalImages, int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        int blocks = (totalImages + blockSize - 1) / blockSize;
        if (Count > blocks)
            throw new ArgumentException($"{Count} shards but only {blocks} blocks of {blockSize} evaluation images ({totalImages} images): use at most {blocks} shards.");
        int firstBlock = (int)((long)Index * blocks / Count), endBlock = (int)((long)(Index + 1) * blocks / Count);
        int first = firstBlock * blockSize, end = Math.Min(totalImages, endBlock * blockSize);
        return (first, end - first);
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}
