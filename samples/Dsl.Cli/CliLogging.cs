using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DiffusionSteeringLens.Cli;

/// <summary>Logging for a run: nothing unless --verbose, then debug lines on the run's output writer.</summary>
internal static class CliLogging
{
    public static ILoggerFactory Create(CliHost host, bool verbose) =>
        verbose ? LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new WriterLoggerProvider(host.Out))) : NullLoggerFactory.Instance;

    private sealed class WriterLoggerProvider(TextWriter writer) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new WriterLogger(writer, categoryName.Split('.').Last());
        public void Dispose() { }
    }

    private sealed class WriterLogger(TextWriter writer, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (writer) writer.WriteLine($"  {logLevel.ToString().ToLowerInvariant()[..4]} {category}: {formatter(state, exception)}");
        }
    }
}
