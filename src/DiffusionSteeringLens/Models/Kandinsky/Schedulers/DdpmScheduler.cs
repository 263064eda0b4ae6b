using DiffusionSteeringLens.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Schedulers;

/// <summary>
/// diffusers' <c>DDPMScheduler</c> for inference: the training noise schedule, the inference timestep grid and the
/// ancestral step x_t → x_{t−1}. Randomness is injected: <see cref="Step"/> takes the step's variance noise instead of
/// drawing it, so a run can be replayed exactly.
/// </summary>
/// <remarks>
/// Schedule scalars (ᾱ_t, β_t, the posterior coefficients) are computed as float32 0-dim tensors, matching the
/// reference's arithmetic rather than recomputing in double precision.
/// </remarks>
public sealed class DdpmScheduler : IDisposable
{
    private static readonly string[] LearnedVarianceTypes = { "learned", "learned_range" };

    private readonly Tensor _betas;
    private readonly Tensor _alphas;
    private readonly Tensor _alphasCumprod;
    private readonly Tensor _one;
    private long[] _timesteps;
    private bool _disposed;

    /// <summary>Creates the scheduler.</summary>
    /// <exception cref="NotSupportedException">A config value this implementation refuses (dynamic thresholding, <c>fixed_large_log</c>).</exception>
    public DdpmScheduler(DdpmSchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Thresholding) throw new NotSupportedException("dynamic thresholding is not supported.");
        // The reference takes the square root of a log-variance for this type, which is NaN for every β < 1.
        if (config.VarianceType == "fixed_large_log") throw new NotSupportedException("variance_type 'fixed_large_log' is not supported.");
        Config = config;
        using (var scope = NewDisposeScope())
        {
            var betas = BetaSchedule.Create(config.BetaSchedule, config.NumTrainTimesteps, config.BetaStart, config.BetaEnd);
            if (config.RescaleBetasZeroSnr) betas = BetaSchedule.RescaleZeroTerminalSnr(betas);
            _betas = betas.MoveToOuterDisposeScope();
            _alphas = (1.0 - _betas).MoveToOuterDisposeScope();
            _alphasCumprod = _alphas.cumprod(0).MoveToOuterDisposeScope();
        }
        _one = tensor(1.0f);
        // Before SetTimesteps the grid is every training step, descending (as in the reference).
        _timesteps = Enumerable.Range(0, config.NumTrainTimesteps).Select(i => (long)(config.NumTrainTimesteps - 1 - i)).ToArray();
    }

    /// <summary>Loads <c>scheduler_config.json</c> from a folder (e.g. the decoder repo's <c>scheduler/</c>) or a file.</summary>
    /// <exception cref="ConfigException">A bad or unsupported value; the message names the file and key.</exception>
    public static DdpmScheduler FromPretrained(string folderOrFile)
    {
        var config = DdpmSchedulerConfig.Load(folderOrFile);
        var path = Directory.Exists(folderOrFile) ? Path.Combine(folderOrFile, "scheduler_config.json") : folderOrFile;
        if (config.VarianceType == "fixed_large_log")
            throw new ConfigException(Path.GetFullPath(path), "variance_type", "'fixed_large_log' is not supported (the reference turns it into NaN noise).");
        return new DdpmScheduler(config);
    }

    /// <summary>The config.</summary>
    public DdpmSchedulerConfig Config { get; }

    /// <summary>β_t for every training timestep [T], float32. Owned by the scheduler.</summary>
    public Tensor Betas => _betas;

    /// <summary>α_t = 1 − β_t [T], float32. Owned by the scheduler.</summary>
    public Tensor Alphas => _alphas;

    /// <summary>ᾱ_t = Π α [T], float32 (cumulative product taken in float32, as in torch). Owned by the scheduler.</summary>
    public Tensor AlphasCumprod => _alphasCumprod;

    /// <summary>Standard deviation of the initial noise (1 for DDPM).</summary>
    public double InitNoiseSigma => 1.0;

    /// <summary>The current inference timesteps, descending.</summary>
    public IReadOnlyList<long> Timesteps => Array.AsReadOnly(_timesteps);

    /// <summary>Steps set by the last <see cref="SetTimesteps"/>, or null before the first call.</summary>
    public int? NumInferenceSteps { get; private set; }

    /// <summary>True when the model's extra channels carry a learned variance (<c>learned</c>, <c>learned_range</c>).</summary>
    public bool HasLearnedVariance => LearnedVarianceTypes.Contains(Config.VarianceType);

    /// <summary>Chooses the inference grid for <paramref name="numInferenceSteps"/> steps per <c>timestep_spacing</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 or more than the training timesteps.</exception>
    public void SetTimesteps(int numInferenceSteps)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (numInferenceSteps < 1 || numInferenceSteps > Config.NumTrainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"must be between 1 and num_train_timesteps ({Config.NumTrainTimesteps}).");
        _timesteps = TimestepSpacing.Create(Config.TimestepSpacing, Config.NumTrainTimesteps, numInferenceSteps, Config.StepsOffset);
        NumInferenceSteps = numInferenceSteps;
    }

    /// <summary>The timestep a step from <paramref name="timestep"/> lands on: t − T // n (negative after the last step).</summary>
    public long PreviousTimestep(long timestep) => timestep - Config.NumTrainTimesteps / (NumInferenceSteps ?? Config.NumTrainTimesteps);

    /// <summary>One reverse-diffusion step.</summary>
    /// <param name="modelOutput">
    /// The model's prediction [B, C, …] (ε, x0 or v per <c>prediction_type</c>); with a learned variance type it may carry
    /// C more channels, which are split off as the variance prediction.
    /// </param>
    /// <param name="timestep">The current timestep (an entry of <see cref="Timesteps"/>).</param>
    /// <param name="sample">The current sample x_t [B, C, …].</param>
    /// <param name="varianceNoise">Standard normal noise shaped like <paramref name="sample"/>; required when t &gt; 0.</param>
    /// <returns>x_{t−1} and the predicted x0; the caller owns both.</returns>
    /// <exception cref="ArgumentException">Shapes do not fit, or <paramref name="timestep"/> is out of range.</exception>
    /// <exception cref="ArgumentNullException">No variance noise for a step with t &gt; 0.</exception>
    internal DdpmStepResult Step(Tensor modelOutput, long timestep, Tensor sample, Tensor? varianceNoise)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(modelOutput);
        ArgumentNullException.ThrowIfNull(sample);
        if (timestep < 0 || timestep >= Config.NumTrainTimesteps)
            throw new ArgumentException($"timestep {timestep} is outside [0, {Config.NumTrainTimesteps}).", nameof(timestep));
        long channels = sample.shape[1];
        using var scope = NewDisposeScope();
        long prevT = PreviousTimestep(timestep);
        Tensor epsilonOrPrediction = modelOutput;
        Tensor? predictedVariance = null;
        if (modelOutput.shape[1] == 2 * channels && HasLearnedVariance)
        {
            epsilonOrPrediction = modelOutput.narrow(1, 0, channels);
            predictedVariance = modelOutput.narrow(1, channels, channels);
        }
        if (!epsilonOrPrediction.shape.SequenceEqual(sample.shape))
            throw new ArgumentException(
                $"model output [{string.Join(", ", modelOutput.shape)}] does not fit sample [{string.Join(", ", sample.shape)}] (variance_type {Config.VarianceType}).",
                nameof(modelOutput));

        var alphaProdT = _alphasCumprod.select(0, timestep);
        var alphaProdPrev = prevT >= 0 ? _alphasCumprod.select(0, prevT) : _one;
        var betaProdT = 1.0f - alphaProdT;
        var betaProdPrev = 1.0f - alphaProdPrev;
        var currentAlpha = alphaProdT / alphaProdPrev;
        var currentBeta = 1.0f - currentAlpha;

        var predOriginal = Config.PredictionType switch
        {
            "epsilon" => (sample - betaProdT.pow(0.5) * epsilonOrPrediction) / alphaProdT.pow(0.5),
            "sample" => epsilonOrPrediction.alias(),
            "v_prediction" => alphaProdT.pow(0.5) * sample - betaProdT.pow(0.5) * epsilonOrPrediction,
            _ => throw new NotSupportedException($"prediction_type '{Config.PredictionType}' is not supported."),
        };
        if (Config.ClipSample) predOriginal = predOriginal.clamp(-Config.ClipSampleRange, Config.ClipSampleRange);

        var originalCoeff = alphaProdPrev.pow(0.5) * currentBeta / betaProdT;
        var sampleCoeff = currentAlpha.pow(0.5) * betaProdPrev / betaProdT;
        var prev = originalCoeff * predOriginal + sampleCoeff * sample;

        if (timestep > 0)
        {
            if (varianceNoise is null)
                throw new ArgumentNullException(nameof(varianceNoise), $"timestep {timestep} > 0 adds noise; pass the step's standard normal draw.");
            if (!varianceNoise.shape.SequenceEqual(sample.shape))
                throw new ArgumentException($"variance noise [{string.Join(", ", varianceNoise.shape)}] does not match sample [{string.Join(", ", sample.shape)}].", nameof(varianceNoise));
            var variance = Variance(alphaProdT, alphaProdPrev, currentBeta, predictedVariance);
            var noiseScale = Config.VarianceType switch
            {
                "fixed_small_log" => variance,
                "learned_range" => (0.5f * variance).exp(),
                _ => variance.pow(0.5),
            };
            prev = prev + noiseScale * varianceNoise;
        }
        return new DdpmStepResult(prev.MoveToOuterDisposeScope(), predOriginal.MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _betas.Dispose();
        _alphas.Dispose();
        _alphasCumprod.Dispose();
        _one.Dispose();
    }

    // The posterior variance β̃_t in the form each variance type uses it (log-variance for learned_range).
    private Tensor Variance(Tensor alphaProdT, Tensor alphaProdPrev, Tensor currentBeta, Tensor? predictedVariance)
    {
        // Clamped because some types take its log; at the last step (ᾱ_prev = 1) it is exactly 0.
        var variance = ((1.0f - alphaProdPrev) / (1.0f - alphaProdT) * currentBeta).clamp_min(1e-20);
        switch (Config.VarianceType)
        {
            case "fixed_small":
                return variance;
            case "fixed_small_log":
                return (0.5f * variance.log()).exp();
            case "fixed_large":
                return currentBeta;
            case "learned":
                return predictedVariance ?? throw new ArgumentException("variance_type 'learned' needs the variance channels in the model output.");
            case "learned_range":
                {
                    if (predictedVariance is null)
                        throw new ArgumentException("variance_type 'learned_range' needs the variance channels in the model output.");
                    var minLog = variance.log();
                    var maxLog = currentBeta.log();
                    var frac = (predictedVariance + 1.0f) / 2.0f;
                    return frac * maxLog + (1.0f - frac) * minLog;
                }
            default:
                throw new NotSupportedException($"variance_type '{Config.VarianceType}' is not supported.");
        }
    }
}
