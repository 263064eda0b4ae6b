using System.Collections.Concurrent;
using System.Diagnostics;
using DiffusionSteeringLens.Experiments;
using Spectre.Console;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Cli;

/// <summary>
/// Shows experiment progress: Spectre live bars in an interactive terminal; plain, throttled log lines otherwise
/// (Spectre draws nothing when output is redirected, e.g. in CI logs).
/// </summary>
internal sealed class ProgressDisplay
{
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(2);

    /// <summary>Stage of the decoder's denoising steps (of the current batch): frequent, so plain output only samples it.</summary>
    public const string DenoiseStage = "denoise (current batch)";
    private readonly CliHost _host;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public ProgressDisplay(CliHost host) => _host = host;

    /// <summary>Runs <paramref name="work"/> on the host's compute thread while showing its progress.</summary>
    public async Task<T> RunAsync<T>(Func<IProgress<LensProgress>, T> work, CancellationToken ct)
    {
        if (!_host.LiveProgress)
        {
            var plain = new PlainProgress(_host, _clock);
            var result = await _host.Compute.Run(() => work(plain), ct).ConfigureAwait(false);
            plain.Flush();
            return result;
        }
        return await AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var live = new LiveProgress(ctx, _host.ProgressObserver);
                return await _host.Compute.Run(() => work(live), ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
    }

    /// <summary>Writes a status line (same channel as progress).</summary>
    public void Log(string message) => _host.Out.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {message}");

    private sealed class LiveProgress(ProgressContext ctx, Action<LensProgress>? observer) : IProgress<LensProgress>
    {
        private readonly ConcurrentDictionary<string, ProgressTask> _tasks = new();

        public void Report(LensProgress value)
        {
            observer?.Invoke(value);
            var task = _tasks.GetOrAdd(value.Stage, s => ctx.AddTask(Markup.Escape(s), maxValue: Math.Max(1, value.Total)));
            task.MaxValue = Math.Max(1, value.Total);
            task.Value = value.Completed;
            ctx.Refresh();
        }
    }

    private sealed class PlainProgress(CliHost host, Stopwatch clock) : IProgress<LensProgress>
    {
        private readonly object _gate = new();
        private string? _stage;
        private TimeSpan _last = TimeSpan.MinValue;
        private LensProgress? _pending;

        public void Report(LensProgress value)
        {
            host.ProgressObserver?.Invoke(value);
            lock (_gate)
            {
                var now = clock.Elapsed;
                if (value.Stage == DenoiseStage)
                {
                    // Step reports only show up when nothing else was logged for a while (a slow decoder is still alive).
                    if (now - _last >= PlainInterval) Write(value, now);
                    return;
                }
                bool stageChanged = value.Stage != _stage;
                bool done = value.Completed >= value.Total;
                // Stage starts and ends are always logged; in-between updates at most every PlainInterval.
                if (stageChanged && _pending is { } p && p.Completed < p.Total) Write(p, now);
                if (stageChanged || done || now - _last >= PlainInterval)
                {
                    if (!(done && stageChanged && value.Completed == 0)) Write(value, now);
                    _pending = null;
                }
                else _pending = value;
                _stage = value.Stage;
            }
        }

        public void Flush()
        {
            lock (_gate)
                if (_pending is { } p) Write(p, clock.Elapsed);
        }

        private void Write(LensProgress p, TimeSpan now)
        {
            _last = now;
            host.Out.WriteLine($"[{now:mm\\:ss}] {p.Stage}: {p.Completed}/{p.Total}");
        }
    }
}
