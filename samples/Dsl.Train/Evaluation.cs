using DiffusionSteeringLens.Analysis;

namespace DiffusionSteeringLens.Train;

/// <summary>Phase 3: measurements on the saved model (loaded back strictly): fidelity, DL sweep, head rankings, overlay.</summary>
internal static class Evaluation
{
    public sealed record Report(string Sampler, FidelityEvaluation.Result Fidelity, IReadOnlyList<LensSweepEvaluation.Row> LensSweep,
        HeadRankingEvaluation.Result? Heads, OverlayEvaluation.Result? Overlay, int DecodedPictures, double DecodeSeconds);

    public static void Run(TrainOptions o)
    {
        using var ctx = new EvalContext(o);
        string sampler = $"DDPM {o.SamplingSteps} steps, guidance {o.Guidance}, clip_sample, seed 7";
        Log.Line($"evaluate: {sampler}");
        string path = Path.Combine(ctx.FiguresDir, "results.json");
        var fidelity = FidelityEvaluation.Run(ctx);
        ResultsWriter.WriteJson(path, new Report(sampler, fidelity, Array.Empty<LensSweepEvaluation.Row>(), null, null, ctx.DecodedPictures, ctx.DecodeSeconds));
        var sweep = LensSweepEvaluation.Run(ctx);
        ResultsWriter.WriteJson(path, new Report(sampler, fidelity, sweep, null, null, ctx.DecodedPictures, ctx.DecodeSeconds));
        var overlay = OverlayEvaluation.Run(ctx);
        ResultsWriter.WriteJson(path, new Report(sampler, fidelity, sweep, null, overlay, ctx.DecodedPictures, ctx.DecodeSeconds));
        var heads = HeadRankingEvaluation.Run(ctx);
        ResultsWriter.WriteJson(path, new Report(sampler, fidelity, sweep, heads, overlay, ctx.DecodedPictures, ctx.DecodeSeconds));
        Log.Line($"evaluate: {ctx.DecodedPictures} pictures decoded in {ctx.DecodeSeconds:F0}s; wrote {path}");
    }
}
