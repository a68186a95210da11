using System.Runtime.InteropServices;

namespace BlurVae.Training.Benchmarks;

/// <summary>What the numbers were measured on.</summary>
public sealed record MachineInfo(string Cpu, int LogicalCores, string Os, string Dotnet, string Architecture)
{
    public static MachineInfo Collect() => new(
        CpuModel(), Environment.ProcessorCount, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription,
        RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant());

    /// <summary>"model name" of /proc/cpuinfo on Linux; the architecture elsewhere.</summary>
    private static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int i and >= 0)
                        return line[(i + 1)..].Trim();
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
