using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// The overlay-removal study (<see cref="LensStudy.Overlay"/>) in steps, so its expensive part — every compared head set
/// ablated on every evaluation image — can be split over machines: <see cref="Measure"/> measures one shard of the
/// evaluation images, <see cref="Merge"/> checks and joins the shards, <see cref="Statistics"/> computes the study's
/// result from the per-image values. Both take the core's own steps (<see cref="OverlayStudy.Run"/> is the same pipeline
/// on every block), so merged shards reproduce an unsharded run bit for bit on one machine.
/// </summary>
internal static class OverlayStudySteps
{
    /// <summary>Evaluation images per forward batch; a shard is whole blocks (see <see cref="ValidationShard.Range"/>).</summary>
    public const int BlockSize = OverlayStudy.BlockSize;

    /// <summary>
    /// The calibration step (overlay direction, every rule's head scores, silent heads — the same in every shard) and the
    /// per-image presence, clean similarity and clean shift of every head set on this shard's evaluation images.
    /// </summary>
    /// <exception cref="ArgumentException">More shards than blocks of evaluation images, a planted head outside the model, or
    /// an overlay that does not change the output.</exception>
    public static OverlayMeasurements Measure(IHookedVit encoder, StudyImages images, SteeringOptions steering, int topK, int maxImages, int maxSubsets,
        int seed, IReadOnlyList<HeadTarget>? planted, ValidationShard? shard, IProgress<LensProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(steering);
        shard ??= ValidationShard.Whole;
        var arch = encoder.Architecture;
        OverlayStudy.CheckPlanted(arch.NumLayers, arch.NumHeads, planted);   // before the forwards, not after
        using var scope = torch.NewDisposeScope();
        using var calibration = images.OverlayPair(images.Calibration);
        using var all = images.OverlayPair(images.Evaluation);
        int total = (int)Math.Min(all.Base.shape[0], Math.Max(1, maxImages));
        var (first, count) = shard.Range(total, BlockSize);
        progress?.Report(new LensProgress("overlay calibration", 0, 1));
        var chosen = OverlayStudy.Calibrate(new SteeringLens(encoder, steering), calibration, cancellationToken);
        var rows = OverlayStudy.Rows(arch, chosen, topK, maxSubsets, seed, planted);
        progress?.Report(new LensProgress("overlay calibration", 1, 1));
        var perImage = new List<OverlayImageMeasurement>(count);
        int blocks = (count + BlockSize - 1) / BlockSize;
        for (int block = 0; block < blocks; block++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new LensProgress("overlay measurements", block, blocks));
            int start = first + block * BlockSize, size = Math.Min(BlockSize, first + count - start);
            using var pair = new OverlayPair(all.Base.narrow(0, start, size), all.Overlaid.narrow(0, start, size));
            var values = OverlayStudy.Measure(encoder, pair, chosen.Direction, rows.Sets, cancellationToken);
            perImage.AddRange(values.Select((v, i) => new OverlayImageMeasurement(start + i, v.Presence, v.CleanSimilarity, v.CleanShift)));
        }
        progress?.Report(new LensProgress("overlay measurements", blocks, blocks));
        return new OverlayMeasurements(shard, total, images.Description, ValidationStudy.ModelFingerprint(encoder),
            ValidationStudy.ImagesFingerprint(images, calibration.Overlaid, all.Overlaid.narrow(0, 0, total)), arch.NumLayers, arch.NumHeads, rows.TopK, maxSubsets, seed,
            rows.Planted.Select(h => h.Index(arch.NumHeads)).ToArray(), chosen.Images, chosen.LensScores, chosen.DlScores, chosen.ChangeNorms,
            chosen.Silent, perImage);
    }

    /// <summary>
    /// Joins the shards of one study, after checking that they fit: the same model and image fingerprints, settings and
    /// encoder shape, the same head sets chosen on the calibration images (compared as sets, so shards run on machines
    /// whose last float bits differ still merge when they ablated the same heads), every shard of the same count exactly
    /// once. The first shard's calibration scores are kept.
    /// </summary>
    /// <exception cref="ShardMismatchException">The shards do not fit; the message names the shard and what differs.</exception>
    public static OverlayMeasurements Merge(IReadOnlyList<OverlayMeasurements> shards)
    {
        var ordered = ShardMerge.Ordered(shards, s => s.Shard, s => s.PerImage.Select(p => p.Image), s => s.EvaluationImages, BlockSize, "evaluation images",
            new((s, h) => s.ModelFingerprint == h.ModelFingerprint, "the encoder weights (model fingerprints)"),
            new((s, h) => s.ImagesFingerprint == h.ImagesFingerprint && s.Images == h.Images && s.EvaluationImages == h.EvaluationImages
                && s.CalibrationImages == h.CalibrationImages, "the image sets"),
            new((s, h) => s.TopK == h.TopK && s.MaxSubsets == h.MaxSubsets && s.Seed == h.Seed && s.PlantedHeads.SequenceEqual(h.PlantedHeads), "the overlay settings (k, subsets, seed, planted heads)"),
            new((s, h) => s.NumLayers == h.NumLayers && s.NumHeads == h.NumHeads, "the encoder shapes"),
            new((s, h) => ChosenSets(s).SequenceEqual(ChosenSets(h)), "the head sets chosen on the calibration images"));
        return ordered[0] with { Shard = ValidationShard.Whole, PerImage = ordered.SelectMany(s => s.PerImage).ToArray() };
    }

    /// <summary>The study's result from the per-image values of every evaluation image.</summary>
    /// <exception cref="ArgumentException">The measurements are one shard only (merge them first), or malformed.</exception>
    public static OverlayStudyResult Statistics(OverlayMeasurements measurements)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        var m = measurements;
        ShardMerge.RequireWhole(m.EvaluationImages, m.PerImage.Select(p => p.Image).ToArray(), m.Shard, "evaluation images", nameof(measurements));
        var values = m.PerImage.Select(p => new OverlayStudy.OverlayImageValues(p.Presence.ToArray(), p.CleanSimilarity.ToArray(), p.CleanShift.ToArray())).ToArray();
        return OverlayStudy.Statistics(Rows(m), m.CalibrationImages, values);
    }

    private static OverlayStudy.RowSets Rows(OverlayMeasurements m)
    {
        int n = m.NumLayers * m.NumHeads;
        if (m.LensScores.Count != n || m.DlScores.Count != n || m.ChangeNorms.Count != n || m.SilentHeads.Any(h => h < 0 || h >= n) || m.PlantedHeads.Any(h => h < 0 || h >= n))
            throw new ArgumentException($"overlay measurements of a {m.NumLayers} × {m.NumHeads} encoder need {n} scores per rule and heads below {n}.", nameof(m));
        return OverlayStudy.Rows(m.NumLayers, m.NumHeads, m.LensScores, m.DlScores, m.ChangeNorms, m.SilentHeads, m.TopK, m.MaxSubsets, m.Seed,
            m.PlantedHeads.Select(h => HeadTarget.FromIndex(h, m.NumHeads)).ToArray());
    }

    /// <summary>The ablated head sets the calibration fixed (every row before the random subsets, which depend on the settings only) and the silent heads.</summary>
    private static IEnumerable<string> ChosenSets(OverlayMeasurements m)
    {
        var rows = Rows(m);
        return rows.Sets.Take(rows.FirstRandom).Select(s => string.Join(",", s)).Append("silent " + string.Join(",", m.SilentHeads));
    }
}
