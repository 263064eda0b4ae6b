using System.Globalization;
using DiffusionSteeringLens.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>
/// A resumable training checkpoint folder: named safetensors files, the optimiser state and the step. Written into a
/// fresh folder and swapped in, so a stop at any moment leaves the previous checkpoint whole.
/// </summary>
internal static class TrainingCheckpoint
{
    /// <summary>Writes <paramref name="files"/> (file name → state dict), the optimiser state and <paramref name="step"/>.</summary>
    public static void Save(string folder, IReadOnlyList<(string File, Dictionary<string, Tensor> State)> files,
        TorchSharp.Modules.OptimizerHelper opt, int step, string label)
    {
        var tmp = folder + ".tmp";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        Directory.CreateDirectory(tmp);
        foreach (var (file, state) in files) SafetensorsWriter.Write(Path.Combine(tmp, file), state);
        opt.save_state_dict(Path.Combine(tmp, "optimizer.bin"));
        File.WriteAllText(Path.Combine(tmp, "step.txt"), step.ToString(CultureInfo.InvariantCulture));
        var old = folder + ".old";
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
        if (Directory.Exists(folder)) Directory.Move(folder, old);
        Directory.Move(tmp, folder);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
        Log.Line($"{label}: checkpoint at step {step}");
    }

    /// <summary>
    /// The step of the last checkpoint in <paramref name="folder"/> (0 when there is none), after handing each saved file
    /// to <paramref name="load"/> and restoring the optimiser.
    /// </summary>
    public static int Resume(string folder, IReadOnlyList<(string File, Action<SafetensorsFile> Load)> files,
        TorchSharp.Modules.OptimizerHelper opt, string label)
    {
        // A stop between the two moves of Save leaves only the ".old" copy: it is the last whole checkpoint.
        if (!Directory.Exists(folder) && Directory.Exists(folder + ".old")) Directory.Move(folder + ".old", folder);
        if (!File.Exists(Path.Combine(folder, "step.txt"))) return 0;
        using (no_grad())
            foreach (var (file, load) in files)
            {
                using var f = SafetensorsFile.Open(Path.Combine(folder, file));
                load(f);
            }
        opt.load_state_dict(Path.Combine(folder, "optimizer.bin"));
        int step = int.Parse(File.ReadAllText(Path.Combine(folder, "step.txt")), CultureInfo.InvariantCulture);
        Log.Line($"{label}: resumed from the checkpoint at step {step}");
        return step;
    }

    /// <summary>Copies every parameter of <paramref name="module"/> from <paramref name="file"/> (names must match).</summary>
    public static void LoadParameters(nn.Module module, SafetensorsFile file)
    {
        using var _ = no_grad();
        foreach (var (name, p) in module.named_parameters()) { using var t = file.Load(name); p.copy_(t); }
    }
}
