using System.Globalization;

namespace DiffusionSteeringLens.Cli;

/// <summary>How much memory a run can still allocate: <c>MemAvailable</c> on Linux, the GC's view elsewhere.</summary>
internal static class AvailableMemory
{
    /// <summary>Available bytes now.</summary>
    public static long Bytes()
    {
        if (OperatingSystem.IsLinux() && FromMeminfo("/proc/meminfo") is { } linux) return linux;
        var info = GC.GetGCMemoryInfo();
        return Math.Max(0, info.TotalAvailableMemoryBytes - info.MemoryLoadBytes);
    }

    /// <summary>The <c>MemAvailable</c> line of a meminfo file in bytes, or null when it is missing or unreadable.</summary>
    internal static long? FromMeminfo(string path)
    {
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // "MemAvailable:   22675888 kB"
                if (parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long kib))
                    return kib * 1024;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }
}
