using System.Runtime.InteropServices;

namespace BlurVae.Kernels.Emulated;

/// <summary>
/// The g++ build of kernels.cu (libblurvae_kernels_host.so), loaded once per path and bound by function pointer.
/// The build (BlurVae.Kernels/Emulated/HostKernels.targets) places it next to every assembly referencing BlurVae.Kernels.
/// </summary>
internal sealed unsafe class HostKernelLibrary
{
    public const string FileName = "libblurvae_kernels_host.so";

    private static readonly Dictionary<string, HostKernelLibrary> Loaded = new(StringComparer.Ordinal);

    public readonly delegate* unmanaged<byte*, uint, uint, uint, uint, uint, uint, uint, void**, uint, uint*, int> Launch;
    /// <summary>blurvae_check_launch: Launch's checks (kernel, geometry, arguments) without running anything.</summary>
    public readonly delegate* unmanaged<byte*, uint, uint, uint, uint, uint, uint, uint, void**, uint, uint*, int> CheckLaunch;
    public readonly delegate* unmanaged<byte*> LastError;
    private readonly delegate* unmanaged<int> _kernelCount;
    private readonly delegate* unmanaged<int, byte*> _kernelName;

    private HostKernelLibrary(nint handle)
    {
        Launch = (delegate* unmanaged<byte*, uint, uint, uint, uint, uint, uint, uint, void**, uint, uint*, int>)NativeLibrary.GetExport(handle, "blurvae_launch");
        CheckLaunch = (delegate* unmanaged<byte*, uint, uint, uint, uint, uint, uint, uint, void**, uint, uint*, int>)NativeLibrary.GetExport(handle, "blurvae_check_launch");
        LastError = (delegate* unmanaged<byte*>)NativeLibrary.GetExport(handle, "blurvae_last_error");
        _kernelCount = (delegate* unmanaged<int>)NativeLibrary.GetExport(handle, "blurvae_kernel_count");
        _kernelName = (delegate* unmanaged<int, byte*>)NativeLibrary.GetExport(handle, "blurvae_kernel_name");
    }

    public static HostKernelLibrary Load(string path)
    {
        string full = Path.GetFullPath(path);
        lock (Loaded)
        {
            if (Loaded.TryGetValue(full, out var lib)) return lib;
            if (!File.Exists(full))
                throw new FileNotFoundException(
                    $"The host kernels library '{full}' does not exist. It is kernels.cu built with g++ by the MSBuild target in " +
                    "BlurVae.Kernels/Emulated/HostKernels.targets (any `dotnet build` on Linux with g++ on the PATH), or by hand: " +
                    $"g++ -O2 -std=c++17 -fPIC -shared -pthread -DBLURVAE_HOST_EMULATION -x c++ kernels.cu -o {FileName}", full);
            lib = new HostKernelLibrary(NativeLibrary.Load(full));
            Loaded.Add(full, lib);
            return lib;
        }
    }

    public string LastErrorMessage() => Marshal.PtrToStringUTF8((nint)LastError()) ?? "";

    public IReadOnlyList<string> KernelNames()
    {
        int n = _kernelCount();
        var names = new string[n];
        for (int i = 0; i < n; i++) names[i] = Marshal.PtrToStringUTF8((nint)_kernelName(i)) ?? "";
        return names;
    }
}
