namespace DiffusionSteeringLens.Train;

/// <summary>Phase 3: measurements (fidelity, lens sweeps, head rankings, overlay).</summary>
internal static class Evaluation
{
    public static void Run(TrainOptions o) => throw new NotImplementedException("evaluation is not written yet");
}
