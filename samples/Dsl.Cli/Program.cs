using DiffusionSteeringLens.Cli;

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl-C cancels cooperatively (finished results stay on disk for --resume); a second one kills.
    if (cts.IsCancellationRequested) return;
    e.Cancel = true;
    cts.Cancel();
};
return await DslCli.RunAsync(args, Console.Out, Console.Error, cts.Token);
