namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// The checks every sharded study's merge shares (<see cref="ValidationStudy.Merge"/>, <see cref="ImageSpaceStudy.Merge"/>):
/// every shard fits the first one, every shard of the same count is given exactly once, and each holds exactly the
/// images <see cref="ValidationShard.Range"/> gives it.
/// </summary>
internal static class ShardMerge
{
    /// <summary>One fact every shard must share with the first: whether two shards agree on it, and what it is called (plural: "… differ").</summary>
    public readonly record struct Check<T>(Func<T, T, bool> Same, string What);

    /// <summary>Checks the shards and returns them ordered by shard index.</summary>
    /// <param name="shards">The shards (any order).</param>
    /// <param name="shardOf">A shard's <see cref="ValidationShard"/>.</param>
    /// <param name="imagesOf">The image indices a shard holds, in its order.</param>
    /// <param name="totalImages">Images of the whole study.</param>
    /// <param name="blockSize">Images per block (a shard is whole blocks).</param>
    /// <param name="imageKind">What the images are called in messages (e.g. "evaluation images").</param>
    /// <param name="checks">Facts every shard must share with the first, checked in order after the shard count.</param>
    /// <exception cref="ShardMismatchException">The shards do not fit; the message names the shard and what differs.</exception>
    public static T[] Ordered<T>(IReadOnlyList<T> shards, Func<T, ValidationShard> shardOf, Func<T, IEnumerable<int>> imagesOf,
        Func<T, int> totalImages, int blockSize, string imageKind, params Check<T>[] checks)
    {
        ArgumentNullException.ThrowIfNull(shards);
        if (shards.Count == 0) throw new ShardMismatchException("no shards to merge.");
        var head = shards[0];
        int count = shardOf(head).Count;
        foreach (var s in shards)
        {
            void Same(bool equal, string what)
            {
                if (!equal) throw new ShardMismatchException($"shard {shardOf(s)} does not fit shard {shardOf(head)}: {what} differ.");
            }
            Same(shardOf(s).Count == count, "shard counts (the n of i/n)");
            foreach (var check in checks) Same(check.Same(s, head), check.What);
        }
        var twice = shards.GroupBy(s => shardOf(s).Index).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new ShardMismatchException($"shard {shardOf(twice.First())} is given {twice.Count()} times (overlapping shards).");
        var missing = Enumerable.Range(0, count).Except(shards.Select(s => shardOf(s).Index)).ToArray();
        if (missing.Length > 0)
            throw new ShardMismatchException($"missing shard{(missing.Length > 1 ? "s" : "")} {string.Join(", ", missing.Select(i => new ValidationShard(i, count)))}.");
        var ordered = shards.OrderBy(s => shardOf(s).Index).ToArray();
        int total = totalImages(head);
        foreach (var s in ordered)
        {
            var (first, size) = shardOf(s).Range(total, blockSize);
            if (!imagesOf(s).SequenceEqual(Enumerable.Range(first, size)))
                throw new ShardMismatchException($"shard {shardOf(s)} should hold {imageKind} {first}…{first + size - 1} and holds others.");
        }
        return ordered;
    }

    /// <summary>
    /// Refuses measurements that are not the whole study — images 0 … <paramref name="expected"/> − 1 in order — since
    /// every statistic needs all of them.
    /// </summary>
    /// <param name="expected">Images of the whole study.</param>
    /// <param name="images">The image indices the measurements hold, in order.</param>
    /// <param name="shard">Which shard they say they are.</param>
    /// <param name="imageKind">What the images are called in the message (e.g. "evaluation images").</param>
    /// <param name="paramName">The caller's parameter.</param>
    /// <param name="needs">Who needs them, in the message.</param>
    /// <exception cref="ArgumentException">Some images are missing (a single shard): merge the shards first.</exception>
    public static void RequireWhole(int expected, IReadOnlyList<int> images, ValidationShard shard, string imageKind, string paramName,
        string needs = "statistics need")
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count != expected || images.Where((image, i) => image != i).Any())
            throw new ArgumentException($"{needs} all {expected} {imageKind}; these measurements hold {images.Count} (shard {shard}): merge the shards first.", paramName);
    }
}
