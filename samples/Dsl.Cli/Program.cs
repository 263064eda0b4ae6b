using System.Runtime.InteropServices;
using DiffusionSteeringLens.Cli;

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl-C cancels cooperatively (finished results stay on disk for --resume); a second one kills.
    if (cts.IsCancellationRequested) return;
    e.Cancel = true;
    cts.Cancel();
};
// SIGTERM (kill, a container or job scheduler stopping the run) is treated like Ctrl-C: cancel cooperatively, keep
// finished results, exit as Ctrl-C does. A second SIGTERM falls through to the default: the process ends at once.
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    if (cts.IsCancellationRequested) return;
    context.Cancel = true;
    cts.Cancel();
});
// The long libtorch work runs on this thread, the process's first: glibc serves it from its main heap, where freed
// blocks below 128 MiB are kept for reuse (see ComputeThread); the command itself runs on the thread pool.
using var compute = new MainThreadCompute();
var run = Task.Run(() => DslCli.RunAsync(args, Console.Out, Console.Error, compute, cts.Token));
compute.RunUntil(run);
return await run;
