namespace DiffusionSteeringLens.Models.Kandinsky.Schedulers;

/// <summary>
/// The inference timestep grids of diffusers' schedulers ("Common Diffusion Noise Schedules and Sample Steps are
/// Flawed", table 2), reproduced with NumPy's arithmetic (float steps, round-half-to-even).
/// </summary>
internal static class TimestepSpacing
{
    /// <summary>Descending timesteps for <paramref name="steps"/> inference steps.</summary>
    public static long[] Create(string spacing, int trainTimesteps, int steps, int stepsOffset) => spacing switch
    {
        "leading" => Leading(trainTimesteps, steps, stepsOffset),
        "trailing" => Trailing(trainTimesteps, steps),
        "linspace" => Linspace(trainTimesteps, steps),
        _ => throw new NotSupportedException($"timestep_spacing '{spacing}' is not supported."),
    };

    // k · (T // n) for k = n−1 … 0, plus the offset (Kandinsky: offset 1, so 100 steps end at t = 1).
    private static long[] Leading(int trainTimesteps, int steps, int offset)
    {
        long ratio = trainTimesteps / steps;
        var result = new long[steps];
        for (int k = 0; k < steps; k++) result[k] = (steps - 1 - k) * ratio + offset;
        return result;
    }

    // round(arange(T, 0, −T/n)) − 1; steps_offset is not applied, as in the reference.
    private static long[] Trailing(int trainTimesteps, int steps)
    {
        double ratio = trainTimesteps / (double)steps;
        long count = (long)Math.Ceiling((0.0 - trainTimesteps) / -ratio);
        var result = new long[count];
        for (long i = 0; i < count; i++) result[i] = (long)Math.Round(trainTimesteps - i * ratio, MidpointRounding.ToEven) - 1;
        return result;
    }

    // round(linspace(0, T−1, n)) reversed; NumPy pins the last point to the end value exactly.
    private static long[] Linspace(int trainTimesteps, int steps)
    {
        double end = trainTimesteps - 1;
        var result = new long[steps];
        double step = steps > 1 ? end / (steps - 1) : 0;
        for (int i = 0; i < steps; i++)
        {
            double v = steps > 1 && i == steps - 1 ? end : i * step;
            result[steps - 1 - i] = (long)Math.Round(v, MidpointRounding.ToEven);
        }
        return result;
    }
}
