using System.Globalization;

namespace BlurVae.Training.Benchmarks;

/// <summary>
/// The process's peak resident set over an interval, from Linux's VmHWM: <see cref="Reset"/> sets the mark to the
/// current resident set (writing 5 to /proc/self/clear_refs, Linux ≥ 4.0), <see cref="ReadMib"/> reads it. bench.py
/// does the same for PyTorch, so both engines' figures mean the same thing. Elsewhere both report "unknown".
/// </summary>
public static class PeakMemory
{
    /// <summary>Resets the peak mark; false where that is not possible (not Linux, a restricted /proc).</summary>
    public static bool Reset()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>VmHWM of /proc/self/status in MiB, or null where there is none.</summary>
    public static double? ReadMib()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) return ParseKib(line) / 1024.0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>The kB figure of a /proc status line such as "VmHWM:   123456 kB".</summary>
    internal static double? ParseKib(string line)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long kib) ? kib : null;
    }
}
