using System.Buffers.Binary;
using System.Diagnostics;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary>The hostile command lines of issue #12: each ends with exit 1 and one line naming the problem, before heavy work.</summary>
public sealed class CliHostileInputTests
{
    /// <summary>A safetensors file whose JSON header holds bytes that are not UTF-8.</summary>
    private static string InvalidUtf8Safetensors()
    {
        var header = new byte[] { (byte)'{', (byte)'"', (byte)'a', 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}' };
        var file = new byte[8 + header.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        var path = Path.Combine(Fixtures.TempFolder(), "bad-utf8.safetensors");
        File.WriteAllBytes(path, file);
        return path;
    }

    public static IEnumerable<object[]> HostileInvocations()
    {
        var enc = CliRun.GoldenEncoder;
        var png = Path.Combine(enc, "image_53x40.png");
        yield return new object[] { "invalid UTF-8 header", new[] { "inspect", InvalidUtf8Safetensors() }, "UTF-8" };
        yield return new object[] { "a picture given to inspect", new[] { "inspect", png }, "not a safetensors file" };
        yield return new object[] { "a picture as --pixels", new[] { "lens", "--encoder", enc, "--pixels", png, "--out", Fixtures.TempFolder() }, "not a safetensors file" };
        yield return new object[] { "folder as --image", new[] { "lens", "--encoder", enc, "--image", Fixtures.TempFolder(), "--out", Fixtures.TempFolder() }, "is a folder" };
        yield return new object[] { "folder as --pixels", new[] { "export", "--encoder", enc, "--pixels", Fixtures.TempFolder(), "--out", "/tmp/x.safetensors" }, "is a folder" };
        yield return new object[] { "empty --out", new[] { "lens", "--encoder", enc, "--out", "" }, "--out" };
        yield return new object[] { "empty export --out", new[] { "export", "--encoder", enc, "--pixels", CliRun.GoldenPixels, "--out", "" }, "--out" };
        yield return new object[] { "empty --image", new[] { "lens", "--encoder", enc, "--image", "", "--out", Fixtures.TempFolder() }, "--image" };
        yield return new object[] { "zero threads", new[] { "lens", "--encoder", enc, "--threads", "0" }, "--threads" };
        yield return new object[] { "NaN guidance", new[] { "lens", "--encoder", enc, "--guidance", "NaN" }, "--guidance" };
        yield return new object[] { "infinite guidance", new[] { "lens", "--encoder", enc, "--guidance", "Infinity" }, "--guidance" };
        yield return new object[] { "negative steps", new[] { "lens", "--encoder", enc, "--steps", "-3" }, "--steps" };
        yield return new object[] { "zero batch", new[] { "lens", "--encoder", enc, "--batch-size", "0" }, "--batch-size" };
        yield return new object[] { "empty lens targets", new[] { "lens", "--encoder", enc, "--targets", "", "--out", Fixtures.TempFolder() }, "--targets" };
        yield return new object[] { "commas as steer targets", new[] { "steer", "--encoder", enc, "--targets", " , ,", "--out", Fixtures.TempFolder() }, "--targets" };
        yield return new object[] { "file as --images", new[] { "overlay", "--encoder", enc, "--images", CliRun.GoldenPixels, "--out", Fixtures.TempFolder() }, "is a file" };
        yield return new object[] { "missing --reference-images", new[] { "validate", "--encoder", enc, "--reference-images", Path.Combine(Fixtures.TempFolder(), "nope"), "--out", Fixtures.TempFolder() }, "folder not found" };
        // The shipped decoder's UNet halves a 32-px picture twice: sizes must be multiples of 4.
        yield return new object[] { "size off the UNet's multiple", new[] { "lens", "--size", "33", "--out", Fixtures.TempFolder() }, "multiple of 4" };
        // 1000 'leading' steps with steps_offset 1 would ask the scheduler for timestep 1000 of 0..999.
        yield return new object[] { "steps past the scheduler's grid", new[] { "lens", "--steps", "1000", "--out", Fixtures.TempFolder() }, "--steps 1000" };
        yield return new object[] { "more steps than trained timesteps", new[] { "lens", "--steps", "5000", "--out", Fixtures.TempFolder() }, "--steps 5000" };
        yield return new object[] { "size beyond memory", new[] { "lens", "--size", "100000", "--out", Fixtures.TempFolder() }, "memory" };
        yield return new object[] { "size killed for memory before", new[] { "lens", "--size", "4096", "--out", Fixtures.TempFolder() }, "memory" };
    }

    [Theory]
    [MemberData(nameof(HostileInvocations))]
    public async Task HostileInputExitsOneWithOneLineNamingTheProblem(string why, string[] args, string mentioned)
    {
        var watch = Stopwatch.StartNew();
        var run = await CliRun.Public(args);
        Assert.True(run.ExitCode == 1, $"{why}: exit {run.ExitCode}, stderr: {run.Error}");
        Assert.Single(run.ErrorLines);
        Assert.StartsWith("error: ", run.Error, StringComparison.Ordinal);
        Assert.Contains(mentioned, run.Error, StringComparison.OrdinalIgnoreCase);
        // Refused before heavy work: no decode ran (a decode of the shipped model at these sizes takes minutes or dies).
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"{why}: took {watch.Elapsed}");
        Assert.DoesNotContain("decode", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MemoryGuardComparesItsEstimateWithTheAvailableMemory()
    {
        // 64 px fits in 1 GiB; the same run refuses when only 1 MiB is said to be available.
        var tight = await CliRun.WithHost(new[] { "lens", "--size", "64", "--steps", "1", "--out", Fixtures.TempFolder() }, memory: 1L << 20);
        tight.AssertOneLineError(1, "--batch-size");
        Assert.Contains("1 MiB is available", tight.Error, StringComparison.Ordinal);
        var roomy = await CliRun.WithHost(new[] { "lens", "--size", "64", "--steps", "1", "--out", Fixtures.TempFolder() }, memory: 1L << 30);
        Assert.True(roomy.ExitCode == 0, roomy.Error);
    }

    [Fact]
    public async Task SigtermCancelsLikeCtrlCAndLeavesOnlyWholePictures()
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "SIGTERM is a POSIX signal; CI runs on Linux.");
        var outDir = Fixtures.TempFolder();
        var logs = Fixtures.TempFolder();
        var dsl = Path.Combine(AppContext.BaseDirectory, "dsl.dll");
        // A shell starts the tool as a job and sends SIGTERM once denoising has begun, as a scheduler or `kill` would;
        // it prints the tool's exit status.
        const string script = """
            dotnet "$0" lens --steps 300 --batch-size 1 --out "$1" > "$2/stdout" 2> "$2/stderr" &
            pid=$!
            i=0
            while ! grep -q " decode " "$2/stdout"; do
              sleep 0.1; i=$((i + 1))
              if [ $i -gt 900 ]; then break; fi
            done
            kill -TERM $pid
            wait $pid
            echo $?
            """;
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-c", script, dsl, outDir, logs }) start.ArgumentList.Add(a);
        using var shell = Process.Start(start)!;
        var status = (await shell.StandardOutput.ReadToEndAsync()).Trim();
        Assert.True(shell.WaitForExit(120_000), "the run did not stop within 120 s");
        var stdout = File.ReadAllText(Path.Combine(logs, "stdout"));
        var error = File.ReadAllText(Path.Combine(logs, "stderr")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(status == "1", $"exit status {status}; stderr: {string.Join(" | ", error)}; stdout: {stdout}");
        Assert.Single(error);
        Assert.Contains("--resume", error[0], StringComparison.Ordinal);
        // Cancelled mid-decode: no summary was written, and the pictures folder holds only whole pictures.
        Assert.DoesNotContain("results.json", stdout, StringComparison.Ordinal);
        var pictures = Path.Combine(outDir, "pictures");
        if (Directory.Exists(pictures))
        {
            Assert.Empty(Directory.GetFiles(pictures, "*.tmp", SearchOption.AllDirectories));
            foreach (var png in Directory.GetFiles(pictures, "*.png", SearchOption.AllDirectories))
                using (ImageIO.LoadRgb(png)) { }
        }
    }
}
