using System.Globalization;

namespace BlurVae.LibTorchBench;

/// <summary>
/// The peak resident set of an interval from Linux's VmHWM, reset by writing 5 to /proc/self/clear_refs: what bench.py
/// and BlurVae's PeakMemory measure, so the three engines' figures mean the same thing.
/// </summary>
public static class PeakRss
{
    public static bool Reset()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static double? ReadMib()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return null;
    }
}
