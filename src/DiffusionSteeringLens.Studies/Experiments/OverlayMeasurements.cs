namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// One evaluation image of the overlay study: for every ablated head set, in the study's row order (nothing ablated; the
/// lens's k heads; DL-on-heads'; the output-change norm's; the planted set and each planted head alone when heads were
/// planted; then the compared k-subsets), the overlay presence and the clean-image similarity and shift.
/// </summary>
/// <param name="Image">Index within the evaluation set.</param>
/// <param name="Presence">⟨e(overlaid) − e(base), d̂⟩ / ‖d‖ with the set ablated (both images through the same ablated model).</param>
/// <param name="CleanSimilarity">cos(ablated, clean) output of the image without the overlay.</param>
/// <param name="CleanShift">⟨A(base) − e(base), d̂⟩ / ‖d‖ of the image without the overlay.</param>
public sealed record OverlayImageMeasurement(int Image, IReadOnlyList<double> Presence, IReadOnlyList<double> CleanSimilarity, IReadOnlyList<double> CleanShift);

/// <summary>
/// The per-image step of the overlay-removal study (<see cref="LensStudy.Overlay"/>) on one shard (or all) of its
/// evaluation images, with what every shard shares — the calibration scores each rule ranks heads by (fixed on the
/// calibration images alone, so every shard ablates the same head sets), settings and fingerprints — so that shards can be
/// checked and merged (<see cref="LensStudy.MergeOverlay"/>) before the statistics are computed
/// (<see cref="LensStudy.OverlayStatistics"/>).
/// </summary>
/// <param name="Shard">Which part of the measured evaluation images this is.</param>
/// <param name="EvaluationImages">Evaluation images of the whole study (the first min(evaluation set, maximum) ones).</param>
/// <param name="Images">Description of the image sets.</param>
/// <param name="ModelFingerprint">SHA-256 of the encoder's weights (names, dtypes, shapes, bytes).</param>
/// <param name="ImagesFingerprint">SHA-256 of the calibration, evaluation and reference pixels and of the overlaid copies the study uses.</param>
/// <param name="NumLayers">Encoder layers.</param>
/// <param name="NumHeads">Heads per layer.</param>
/// <param name="TopK">Heads each rule ablates.</param>
/// <param name="MaxSubsets">Exact enumeration of the k-subsets up to this many, else this many random ones.</param>
/// <param name="Seed">Seed of the random subsets.</param>
/// <param name="PlantedHeads">Heads planted to carry the overlay (layer-major indices), or empty.</param>
/// <param name="CalibrationImages">Calibration images the direction and the rankings were fixed on.</param>
/// <param name="LensScores">The lens's overlay score of every head on the calibration images (layer-major).</param>
/// <param name="DlScores">DL-on-heads' overlay score of every head.</param>
/// <param name="ChangeNorms">The lens-free output-change norm of every head.</param>
/// <param name="SilentHeads">Heads that write (almost) nothing on the calibration images (layer-major indices): every rule ranks them last.</param>
/// <param name="PerImage">This shard's images, by increasing index.</param>
public sealed record OverlayMeasurements(ValidationShard Shard, int EvaluationImages, string Images, string ModelFingerprint, string ImagesFingerprint,
    int NumLayers, int NumHeads, int TopK, int MaxSubsets, int Seed, IReadOnlyList<int> PlantedHeads, int CalibrationImages,
    IReadOnlyList<double> LensScores, IReadOnlyList<double> DlScores, IReadOnlyList<double> ChangeNorms, IReadOnlyList<int> SilentHeads,
    IReadOnlyList<OverlayImageMeasurement> PerImage);
