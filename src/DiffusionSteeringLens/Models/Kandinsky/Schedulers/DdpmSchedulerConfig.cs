using DiffusionSteeringLens.IO;
namespace DiffusionSteeringLens.Models.Kandinsky.Schedulers;

/// <summary>diffusers <c>DDPMScheduler</c> config (<c>scheduler_config.json</c>). Defaults are diffusers'.</summary>
public sealed record DdpmSchedulerConfig
{
    /// <summary>Training timesteps.</summary>
    public int NumTrainTimesteps { get; init; } = 1000;
    /// <summary>First beta.</summary>
    public double BetaStart { get; init; } = 0.0001;
    /// <summary>Last beta.</summary>
    public double BetaEnd { get; init; } = 0.02;
    /// <summary><c>linear</c>, <c>scaled_linear</c> or <c>squaredcos_cap_v2</c>.</summary>
    public string BetaSchedule { get; init; } = "linear";
    /// <summary><c>fixed_small</c>, <c>fixed_small_log</c>, <c>fixed_large</c>, <c>fixed_large_log</c>, <c>learned</c> or <c>learned_range</c>.</summary>
    public string VarianceType { get; init; } = "fixed_small";
    /// <summary>Clamp the predicted x0 to ±<see cref="ClipSampleRange"/>.</summary>
    public bool ClipSample { get; init; } = true;
    /// <summary>Clamp range.</summary>
    public double ClipSampleRange { get; init; } = 1.0;
    /// <summary><c>epsilon</c>, <c>sample</c> or <c>v_prediction</c>.</summary>
    public string PredictionType { get; init; } = "epsilon";
    /// <summary><c>leading</c>, <c>trailing</c> or <c>linspace</c>.</summary>
    public string TimestepSpacing { get; init; } = "leading";
    /// <summary>Offset added to leading-spaced timesteps.</summary>
    public int StepsOffset { get; init; }
    /// <summary>Dynamic thresholding (not supported: must be false).</summary>
    public bool Thresholding { get; init; }
    /// <summary>Rescale betas to zero terminal SNR.</summary>
    public bool RescaleBetasZeroSnr { get; init; }

    /// <summary>Reads <c>scheduler_config.json</c> from a folder or file.</summary>
    /// <exception cref="ConfigException">A bad or unsupported value; the message names the file and key.</exception>
    public static DdpmSchedulerConfig Load(string folderOrFile)
    {
        var path = Directory.Exists(folderOrFile) ? Path.Combine(folderOrFile, "scheduler_config.json") : folderOrFile;
        var j = JsonConfig.Load(path);
        var cls = j.GetStringOrNull("_class_name");
        if (cls is not null && cls != "DDPMScheduler")
            throw j.Error("_class_name", $"'{cls}' is not a DDPMScheduler config.");
        if (j.Has("trained_betas")) throw j.Error("trained_betas", "explicit trained_betas are not supported.");
        var c = new DdpmSchedulerConfig
        {
            NumTrainTimesteps = j.GetInt("num_train_timesteps", 1000, min: 1),
            BetaStart = j.GetDouble("beta_start", 0.0001, min: 0, max: 1),
            BetaEnd = j.GetDouble("beta_end", 0.02, min: 0, max: 1),
            BetaSchedule = j.GetString("beta_schedule", "linear", "linear", "scaled_linear", "squaredcos_cap_v2"),
            VarianceType = j.GetString("variance_type", "fixed_small", "fixed_small", "fixed_small_log", "fixed_large", "fixed_large_log", "learned", "learned_range"),
            ClipSample = j.GetBool("clip_sample", true),
            ClipSampleRange = j.GetDouble("clip_sample_range", 1.0, min: 0),
            PredictionType = j.GetString("prediction_type", "epsilon", "epsilon", "sample", "v_prediction"),
            TimestepSpacing = j.GetString("timestep_spacing", "leading", "leading", "trailing", "linspace"),
            StepsOffset = j.GetInt("steps_offset", 0, min: 0),
            Thresholding = j.GetBool("thresholding", false),
            RescaleBetasZeroSnr = j.GetBool("rescale_betas_zero_snr", false),
        };
        if (c.Thresholding) throw j.Error("thresholding", "dynamic thresholding is not supported.");
        return c;
    }
}
