using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using BlurVae.LibTorchBench;
using Microsoft.Win32.SafeHandles;
using TorchSharp;

// reference/pytorch/bench.py for libtorch 2.10 through TorchSharp: the same flags, the same single JSON object on
// stdout ({"engine": "libtorch", "torch": …, "step_ms": […], "peak_working_set_mib": …, "cpu_isa": …, …}); everything
// else goes to stderr (file descriptor 1 points at stderr until the JSON is written, as in bench.py).

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.Out.WriteLine(BenchArguments.Usage);
    return 0;
}
BenchArguments a;
try
{
    a = BenchArguments.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(BenchArguments.Usage);
    Console.Error.WriteLine($"BlurVae.LibTorchBench: error: {e.Message}");
    return 2;
}
if (a.Compile) Note("TorchSharp has no torch.compile; running eagerly (compiled=false)");
if (NativeLibraries.Load() is { } loadError)
{
    Note(loadError);
    return 1;
}

int realStdout = Posix.dup(1);
Posix.dup2(2, 1);
JsonObject result;
try
{
    result = a.Check is { } checkFile ? CheckRun.Run(a, checkFile) : Timed(a);
}
catch (ArgumentException e) // a model the flags cannot build, a --check file that does not fit it
{
    Note(e.Message);
    return 1;
}
finally
{
    Console.Out.Flush();
}
// The JSON goes to the saved descriptor itself: .NET's Console.Out holds a duplicate of whatever descriptor 1 was when
// it was first used (stderr here), so restoring descriptor 1 would not redirect it.
using (var stdout = new FileStream(new SafeFileHandle(realStdout, ownsHandle: true), FileAccess.Write))
{
    stdout.Write(System.Text.Encoding.UTF8.GetBytes(result.ToJsonString() + "\n"));
}
return 0;

static JsonObject Timed(BenchArguments a)
{
    var r = StepBench.Run(a);
    Note($"parameters: VAE {r.VaeParameters}, G_γ {r.KernelGeneratorParameters}");
    return new JsonObject
    {
        ["engine"] = "libtorch",
        ["torch"] = LibTorchVersion(),
        ["torchsharp"] = typeof(torch).Assembly.GetName().Version?.ToString(3),
        ["device"] = a.Device,
        ["device_name"] = Cpu.Name(),
        ["threads"] = a.Threads,
        ["part"] = a.Part,
        ["compiled"] = false,
        ["step_ms"] = new JsonArray(r.StepMs.Select(v => (JsonNode)v).ToArray()),
        ["peak_working_set_mib"] = r.PeakWorkingSetMib,
        ["cpu_isa"] = Cpu.Isa(),
        ["aten_cpu_capability"] = Environment.GetEnvironmentVariable("ATEN_CPU_CAPABILITY"),
        ["parameters"] = a.Part == "step" ? new JsonObject { ["vae"] = r.VaeParameters, ["kernel_generator"] = r.KernelGeneratorParameters } : null,
    };
}

static void Note(string message) => Console.Error.WriteLine($"BlurVae.LibTorchBench: {message}");

// "2.10.0": libtorch's version without TorchSharp's fourth component (TorchSharp reports 2.10.0.0).
static string LibTorchVersion()
{
    var parts = torch.__version__.Split('.');
    return parts.Length > 3 && parts[3] == "0" ? string.Join('.', parts[..3]) : torch.__version__;
}

internal static partial class Posix
{
    [LibraryImport("libc", SetLastError = true)] internal static partial int dup(int fd);
    [LibraryImport("libc", SetLastError = true)] internal static partial int dup2(int from, int to);
}

internal static class Cpu
{
    /// <summary>"model name" of /proc/cpuinfo, as bench.py's cpu_name.</summary>
    public static string Name() => Field("model name") ?? RuntimeInformation.ProcessArchitecture.ToString();

    /// <summary>The widest x86 vector ISA /proc/cpuinfo reports, as bench.py's cpu_isa; null where it cannot tell.</summary>
    public static string? Isa()
    {
        var flags = Field("flags")?.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        if (flags is null) return null;
        return flags.Contains("avx512f") ? "AVX-512" : flags.Contains("avx2") && flags.Contains("fma") ? "AVX2" : "SSE";
    }

    private static string? Field(string name)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith(name, StringComparison.Ordinal) && line.IndexOf(':') is int i and >= 0)
                    return line[(i + 1)..].Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }
}
