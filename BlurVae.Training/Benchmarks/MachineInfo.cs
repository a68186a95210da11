using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using BlurVae.Kernels.Cpu;

namespace BlurVae.Training.Benchmarks;

/// <summary>What the numbers were measured on: the CPU model, its widest vector ISA, and the GEMM micro-kernel in use.</summary>
public sealed record MachineInfo(string Cpu, int LogicalCores, string Os, string Dotnet, string Architecture)
{
    /// <summary>"AVX-512", "AVX2" or "SSE" as the runtime reports the CPU (DOTNET_EnableAVX512=0 hides AVX-512), else null.</summary>
    public string? Isa { get; init; }

    /// <summary>The CPU GEMM's micro-kernel (<see cref="Gemm.Isa"/>) and why it is not the best, if so.</summary>
    public string? GemmKernel { get; init; }

    public static MachineInfo Collect() => new(
        CpuModel(), Environment.ProcessorCount, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription,
        RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant())
    {
        Isa = RuntimeIsa(),
        GemmKernel = Gemm.Isa + (Gemm.IsaNote is { } note ? $" ({note})" : ""),
    };

    /// <summary>One line for tables: model, ISA, GEMM kernel, cores, OS, runtime.</summary>
    public string Describe() =>
        $"{Cpu}{(Isa is null ? "" : $" ({Isa})")}, {LogicalCores} logical cores" +
        $"{(GemmKernel is null ? "" : $", GEMM kernel {GemmKernel}")}, {Os}, {Dotnet}";

    private static string? RuntimeIsa() =>
        RuntimeInformation.ProcessArchitecture is not (System.Runtime.InteropServices.Architecture.X64 or System.Runtime.InteropServices.Architecture.X86) ? null
        : Avx512F.IsSupported ? "AVX-512" : Avx2.IsSupported && Fma.IsSupported ? "AVX2" : "SSE";

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
