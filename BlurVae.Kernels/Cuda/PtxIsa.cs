using System.Globalization;
using System.Text.RegularExpressions;
using BlurVae.Native;

namespace BlurVae.Kernels.Cuda;

/// <summary>
/// Which PTX ISA a CUDA driver can JIT-compile. NVRTC always writes its own toolkit's ISA version into the PTX
/// (`.version 7.2` from NVRTC 11.2), whatever architecture it targets, and a driver older than that toolkit refuses the
/// module with an opaque CUDA_ERROR_UNSUPPORTED_PTX_VERSION; this turns that into a message naming both versions
/// before the module is loaded.
/// </summary>
public static partial class PtxIsa
{
    /// <summary>
    /// The first CUDA release (1000·major + 10·minor, as cuDriverGetVersion reports it) that accepts each PTX ISA
    /// version: the "PTX ISA release history" table of NVIDIA's PTX ISA reference (docs.nvidia.com/cuda/
    /// parallel-thread-execution, section "Release notes"). The one place this mapping lives.
    /// </summary>
    public static IReadOnlyList<(int Major, int Minor, int FirstCuda)> ReleaseHistory { get; } =
    [
        (6, 0, 9000), (6, 1, 9010), (6, 2, 9020), (6, 3, 10000), (6, 4, 10010), (6, 5, 10020),
        (7, 0, 11000), (7, 1, 11010), (7, 2, 11020), (7, 3, 11030), (7, 4, 11040), (7, 5, 11050), (7, 6, 11060), (7, 7, 11070), (7, 8, 11080),
        (8, 0, 12000), (8, 1, 12010), (8, 2, 12020), (8, 3, 12030), (8, 4, 12040), (8, 5, 12050), (8, 6, 12070), (8, 7, 12080), (8, 8, 12090),
        (9, 0, 13000), (9, 1, 13010),
    ];

    [GeneratedRegex(@"^\s*\.version\s+(\d+)\.(\d+)", RegexOptions.Multiline)]
    private static partial Regex VersionDirective();

    /// <summary>The `.version` directive of a PTX text.</summary>
    public static (int Major, int Minor) Read(string ptx)
    {
        var m = VersionDirective().Match(ptx);
        if (!m.Success) throw new InvalidDataException("The PTX has no .version directive.");
        return (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>The newest PTX ISA a driver of CUDA version <paramref name="driverVersion"/> JIT-compiles, or null below CUDA 9.0.</summary>
    public static (int Major, int Minor)? NewestFor(int driverVersion)
    {
        (int, int)? newest = null;
        foreach (var (major, minor, first) in ReleaseHistory)
            if (first <= driverVersion) newest = (major, minor);
        return newest;
    }

    /// <summary>The CUDA release that first accepts ISA <paramref name="major"/>.<paramref name="minor"/>, or null for one newer than this table.</summary>
    public static int? FirstCudaFor(int major, int minor) =>
        ReleaseHistory.Where(r => r.Major == major && r.Minor == minor).Select(r => (int?)r.FirstCuda).FirstOrDefault();

    /// <summary>"12.4" for 12040.</summary>
    public static string CudaVersionText(int version) => $"{version / 1000}.{version % 1000 / 10}";

    /// <summary>
    /// Throws <see cref="NotSupportedException"/>, naming the PTX's ISA, the NVRTC that wrote it and the driver's
    /// CUDA version, when the driver cannot JIT the PTX (an ISA newer than the driver's, or newer than this table).
    /// </summary>
    public static void EnsureDriverCanJit(string ptx, int driverVersion, string nvrtcVersion)
    {
        var (major, minor) = Read(ptx);
        int? needs = FirstCudaFor(major, minor);
        if (needs is int n && n <= driverVersion) return;
        var newest = NewestFor(driverVersion);
        string driverCan = newest is var (dm, dn) ? $"JIT-compiles PTX ISA {dm}.{dn} at most" : "predates every PTX ISA in our table";
        string required = needs is int r ? $"CUDA {CudaVersionText(r)} or newer" : "a driver newer than this build knows";
        throw new NotSupportedException(
            $"The kernels' PTX is ISA {major}.{minor} (written by NVRTC {nvrtcVersion}), but the NVIDIA driver supports CUDA {CudaVersionText(driverVersion)} and {driverCan}. " +
            $"Update the driver to one supporting {required}, or run with an NVRTC (libnvrtc) no newer than the driver's CUDA version.");
    }

    /// <summary>The installed driver's CUDA version (cuDriverGetVersion).</summary>
    public static unsafe int DriverVersion()
    {
        int version;
        Driver.Check(Driver.cuDriverGetVersion(&version), "cuDriverGetVersion");
        return version;
    }
}
