using DiffusionSteeringLens.Analysis;

namespace DiffusionSteeringLens.Train;

/// <summary>
/// Phase 3: measurements on the saved model (loaded back strictly): fidelity, DL sweep, overlay, head rankings. Each part
/// writes <c>evaluation/&lt;part&gt;.json</c> as soon as it is done (<c>--eval-parts</c> picks the parts).
/// </summary>
internal static class Evaluation
{
    public static void Run(TrainOptions o)
    {
        using var ctx = new EvalContext(o);
        string sampler = $"DDPM {o.SamplingSteps} steps, guidance {o.Guidance}, clip_sample, seed 7";
        Log.Line($"evaluate: {sampler}; parts {string.Join(",", o.EvalParts)}");
        void Write(string part, object value) =>
            ResultsWriter.WriteJson(Path.Combine(ctx.FiguresDir, part + ".json"), new { Sampler = sampler, Result = value });
        foreach (var part in o.EvalParts)
        {
            switch (part)
            {
                case "fidelity": Write(part, FidelityEvaluation.Run(ctx)); break;
                case "marked-fidelity": Write(part, MarkedFidelityEvaluation.Run(ctx)); break;
                case "sweep": Write(part, LensSweepEvaluation.Run(ctx)); break;
                case "overlay": Write(part, OverlayEvaluation.Run(ctx)); break;
                case "heads": Write(part, HeadRankingEvaluation.Run(ctx)); break;
                default: throw new ArgumentException($"unknown evaluation part '{part}' (fidelity, marked-fidelity, sweep, overlay, heads).");
            }
            Log.Line($"evaluate: {part} done; {ctx.DecodedPictures} pictures decoded so far in {ctx.DecodeSeconds:F0}s");
        }
    }
}
