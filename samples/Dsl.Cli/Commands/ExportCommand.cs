using System.CommandLine;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Lenses;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary><c>dsl export</c>: every lens read-out of the input as float32 tensors in a safetensors file.</summary>
internal static class ExportCommand
{
    public static Command Create(CliHost host)
    {
        var command = new Command("export",
            "Write lens read-outs to safetensors: image_embeds [B,P], dl.resid_post [B,L,P], dl.heads [B,L,H,P], dsl.heads [B,L,H,P], dsl.mlps [B,L,P] (float32).");
        var options = new CommonOptions();
        options.Add(command, options.Encoder, options.Image, options.Pixels, options.Device, options.DType, options.Verbose, options.Threads, options.Steer);
        var output = new Option<string>("--out") { Description = "Output .safetensors file.", Required = true, HelpName = "FILE" };
        command.Add(output);
        command.SetAction((r, ct) => CommandRunner.Guard(host, r.GetValue(options.Verbose), async () =>
        {
            var settings = options.Bind(r) with { NoDecode = true };
            var file = r.GetValue(output)!;
            if (string.IsNullOrWhiteSpace(file)) throw new CliUsageException("--out must name the .safetensors file to write (got an empty string).");
            if (Directory.Exists(file)) throw new CliUsageException($"--out must be a file path (the .safetensors to write); {file} is a folder.");
            var display = new ProgressDisplay(host);
            using var session = Session.Open(settings, host, decode: false, display);
            var steering = new SteeringOptions { Steering = settings.Steering };
            var tensors = await host.Compute.Run(() => LensStudy.Export(session.Encoder, session.Input.Pixels, steering, ct), ct).ConfigureAwait(false);
            try
            {
                var full = Path.GetFullPath(file);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                SafetensorsWriter.Write(full, tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal), new Dictionary<string, string>
                {
                    ["encoder"] = session.EncoderPath,
                    ["input"] = session.InputDescription,
                    ["steering"] = settings.Steering.ToString() ?? "",
                    ["format"] = "dsl-export-1",
                });
                foreach (var (k, t) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    display.Log($"{k,-14} [{string.Join(", ", t.shape)}]");
                display.Log($"wrote {full}");
            }
            finally
            {
                foreach (var t in tensors.Values) t.Dispose();
            }
            return ExitCodes.Success;
        }));
        return command;
    }
}
