using System.CommandLine;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Synthetic;
using TorchSharp;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>
/// <c>dsl demo</c> (also what <c>dsl</c> with no arguments runs): every study on a shipped model — by default the 96-head
/// testbed (marked96, seed 2, decoded by the testbed's shared decoder) — or on <c>--encoder</c>/<c>--decoder</c>.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The demo's default model: the 96-head testbed.</summary>
    public const string DefaultModel = "marked96";

    public static Command Create(CliHost host)
    {
        var v = new ValidationOptions();
        var noOverlay = new Option<bool>("--no-overlay") { Description = "Skip the overlay-removal study." };
        var model = new Option<string>("--model")
        {
            Description = "Shipped model when no --encoder is given: marked96 (the 96-head testbed, seed 2, decoded by the testbed's shared decoder; a reduced-size run of its study) or shapes32 (the 4 × 4 model).",
            DefaultValueFactory = _ => DefaultModel, HelpName = "marked96|shapes32",
        };
        return ExperimentCommand.Create(host, "demo",
            "Everything on the shipped 96-head testbed (or --model shapes32, or --encoder/--decoder): DL layer sweep, all-heads DSL ranking, importance correlation, ablation trajectories, overlay study, grids and report.html. Only the pictures the grids show are decoded.",
            steering: true, c => { v.AddTo(c); c.Add(noOverlay); c.Add(model); },
            r =>
            {
                var budget = BudgetFor(r, v, model, host);
                var bound = v.Bind(r);
                bool Implicit(Option o) => ValidationOptions.Implicit(r, o);
                var settings = bound with
                {
                    TrajectorySteps = bound.TrajectorySteps ?? budget.TrajectorySteps,
                    TrajectoryImages = Implicit(v.TrajectoryImages) ? budget.TrajectoryImages : bound.TrajectoryImages,
                    RandomOrders = Implicit(v.RandomOrders) ? budget.RandomOrders : bound.RandomOrders,
                    Permutations = Implicit(v.Permutations) ? budget.Permutations : bound.Permutations,
                    Bootstrap = Implicit(v.Bootstrap) ? budget.Bootstrap : bound.Bootstrap,
                };
                int calibration = budget.CalibrationImages;
                int evaluation = Implicit(v.Synthetic) ? budget.EvaluationImages : r.GetValue(v.Synthetic);
                var loadImages = v.BindImages(r, new SyntheticSetDefaults(budget.Domain, budget.OverlayKind, evaluation, calibration,
                    settings.Ablation == Analysis.AblationKind.Mean ? StudyImages.DefaultReferenceCount : 0));
                bool overlay = !r.GetValue(noOverlay);
                return async (session, display, outputs, ct) =>
                {
                    var arch = session.Encoder.Architecture;
                    int k = budget.OverlayTopK ?? Math.Max(1, arch.NumLayers * arch.NumHeads / 4);
                    var options = new DemoOptions
                    {
                        Steering = new SteeringOptions { Steering = session.Settings.Steering },
                        Validation = settings,
                        RunOverlay = overlay,
                        OverlayTopK = k,
                        OverlayImages = budget.OverlayImages,
                        OverlaySubsets = budget.OverlaySubsets,
                        ShownTopHeads = session.Settings.TopK,
                    };
                    using var images = loadImages(session.Processor);
                    var sizes = DemoBudget.Describe(settings, (int)images.Evaluation.Pixels.shape[0], (int)images.Calibration.Pixels.shape[0],
                        overlay ? images.OverlayName : "skipped", arch.NumLayers * arch.NumHeads, k, options.OverlayImages, options.OverlaySubsets);
                    display.Log(budget.FullStudy is { } full
                        ? $"reduced demo run of the testbed study: {sizes}; the full study's numbers: {full}"
                        : $"study sizes: {sizes}");
                    using var demo = await display.RunAsync(p => DemoPipeline.Run(session.Context(p), images, options, ct), ct).ConfigureAwait(false);
                    Figures.LayerSweep(outputs, session, demo.LayerSweep);
                    ShownHeadsGrid(outputs, demo, options.ShownTopHeads);
                    if (demo.Overlay is { } o) Figures.Overlay(outputs, images, o);
                    RankCommand.LogTop(display, demo.Ranking.Rows, Math.Min(5, session.Settings.TopK));
                    if (demo.Results.Validation is { } val) ValidateCommand.Log(display, val);
                    if (demo.Overlay is { } ov) display.Log(ov.Verdict);
                    var b = StudyResultsFactory.Base(session, "demo");
                    return demo.Results with
                    {
                        Encoder = b.Encoder, Decoder = b.Decoder, Input = b.Input, DecodeSettings = b.DecodeSettings,
                    };
                };
            },
            (r, s) => WithModel(r, s, model, v, host));
    }

    /// <summary>The model the demo runs on: --encoder when given, else the shipped model named by --model.</summary>
    private static RunSettings WithModel(ParseResult r, RunSettings s, Option<string> model, ValidationOptions v, CliHost host)
    {
        var name = ModelName(r, model);
        var budget = BudgetFor(r, v, model, host);
        var withBudget = s with
        {
            CommandSettings = new Dictionary<string, string>(s.CommandSettings)
            {
                ["model"] = s.Encoder is null ? ShippedName(name) : "(--encoder)",
                ["demo budget"] = budget.FullStudy is { } full ? $"reduced demo run of the testbed study (full study: {full})" : "the demo's study sizes for this model",
            },
        };
        return s.Encoder is null ? withBudget with { Encoder = ModelEncoder(name, host) } : withBudget;
    }

    /// <summary>
    /// The encoder folder of a --model name: null for shapes32 (the tool's plain default, described as such in reports),
    /// else the located testbed encoder (its decoder is then found as the shipped one, see <see cref="ShippedModels.DecoderFor"/>).
    /// </summary>
    internal static string? ModelEncoder(string name, CliHost host) =>
        name == ShippedModels.Shapes32 ? null : ModelFolders.ShippedEncoder(ShippedName(name), host);

    private static string ModelName(ParseResult r, Option<string> model)
    {
        var name = (r.GetValue(model) ?? DefaultModel).Trim().ToLowerInvariant();
        if (name is not (DefaultModel or ShippedModels.Shapes32))
            throw new CliUsageException($"--model must be marked96 or shapes32 (got '{name}').");
        if (r.GetResult(model) is { Implicit: false } && r.GetValue<string?>("--encoder") is not null)
            throw new CliUsageException("give either --model or --encoder, not both.");
        return name;
    }

    private static string ShippedName(string name) => name == DefaultModel ? ShippedModels.Marked96 : name;

    /// <summary>The testbed's reduced budget for a marked96 encoder (shipped or named), the full demo sizes otherwise.</summary>
    private static DemoBudget BudgetFor(ParseResult r, ValidationOptions v, Option<string> model, CliHost host)
    {
        var encoder = r.GetValue<string?>("--encoder");
        bool testbed = encoder is null
            ? ModelName(r, model) == DefaultModel
            : ShippedModels.DecoderFor(encoder) is not null && Path.GetFullPath(encoder).Contains($"{Path.DirectorySeparatorChar}marked96{Path.DirectorySeparatorChar}", StringComparison.Ordinal);
        return testbed ? DemoBudget.Testbed : DemoBudget.Shapes32;
    }

    /// <summary>DSL's top and bottom heads: DSL and DL pictures side by side (only these heads are decoded).</summary>
    private static void ShownHeadsGrid(RunOutputs outputs, DemoOutcome demo, int topK)
    {
        if (demo.ShownDsl?.Pictures is not { } dslPictures || demo.ShownDl?.Pictures is not { } dlPictures) return;
        var shown = demo.ShownHeads;
        int top = shown.Count(h => h.DslRank <= topK);
        var dsl = RunOutputs.Items(dslPictures);
        var dl = RunOutputs.Items(dlPictures);
        try
        {
            string Caption(TargetReadout r) => RunOutputs.Score(r.ImageSimilarity ?? r.EmbeddingSimilarity);
            string title = top == shown.Count
                ? $"Top {top} of {demo.Ranking.Rows.Count} heads by DSL embedding score: DSL vs DL on the same head (caption: image similarity to the input)"
                : $"DSL's top {top} and bottom {shown.Count - top} of {demo.Ranking.Rows.Count} heads (by embedding score): DSL vs DL on the same head (caption: image similarity to the input)";
            outputs.Grid("grid-top-heads.png", title, new[]
            {
                ("DSL", (IReadOnlyList<torch.Tensor>)dsl, (IReadOnlyList<string>)demo.ShownDsl.Readouts.Select(Caption).ToArray()),
                ("DL", dl, demo.ShownDl.Readouts.Select(Caption).ToArray()),
            }, shown.Select(h => $"#{h.DslRank} {h.Head}").ToArray());
        }
        finally
        {
            dsl.ForEach(t => t.Dispose());
            dl.ForEach(t => t.Dispose());
        }
    }
}
