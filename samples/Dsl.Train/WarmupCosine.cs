namespace DiffusionSteeringLens.Train;

/// <summary>Linear warm-up over steps, then a cosine from the peak to <c>floor·peak</c> over a progress fraction in [0, 1].</summary>
internal sealed record WarmupCosine(double Peak, int WarmupSteps, double Floor)
{
    public double At(int step, double progress)
    {
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        double p = Math.Clamp(progress, 0, 1);
        return Peak * (Floor + (1 - Floor) * 0.5 * (1 + Math.Cos(Math.PI * p)));
    }
}
