namespace BlurVae.Kernels.Emulated;

/// <summary>
/// The g++ build of kernels.cu (libblurvae_kernels_host.so), loaded once per path and bound by function pointer.
/// The build (BlurVae.Kernels/Emulated/HostKernels.targets) places it next to every assembly referencing BlurVae.Kernels.
/// </summary>
internal sealed unsafe class HostKernelLibrary
{
    public const string FileName = "libblurvae_kernels_host.so";

    private static readonly Dictionary<string, HostKernelLibrary> Loaded = new(StringComparer.Ordinal);

    private readonly delegate* unmanaged<byte*, uint, uint, uint, uint, uint, uint, uint, void**, uint, uint*, int> _launch;
    private readonly delegate* unmanaged<byte*, uint, uint, uint, uint, uint, uint, uint, void**, uint, uint*, int> _checkLaunch;
    public readonly delegate* unmanaged<byte*> LastError;
    private readonly delegate* unmanaged<int> _kernelCount;
    private readonly delegate* unmanaged<int, byte*> _kernelName;

    private HostKernelLibrary(nint handle)
    {
        _launch = (delegate* unmanaged<byte*, uint, uint, uint, uint, uint, uint, uint, void**, uint, uint*, int>)NativeLibrary.GetExport(handle, "blurvae_launch");
        _checkLaunch = (delegate* unmanaged<byte*, uint, uint, uint, uint, uint, uint, uint, void**, uint, uint*, int>)NativeLibrary.GetExport(handle, "blurvae_check_launch");
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

    /// <summary>
    /// blurvae_launch (<paramref name="checkOnly"/> false: runs the kernel) or blurvae_check_launch (its checks alone:
    /// kernel, geometry, arguments), with cuLaunchKernel's argument array.
    /// </summary>
    /// <exception cref="EmulatedLaunchException">Unknown kernel, bad configuration or arguments, or (running) a barrier/shuffle mismatch.</exception>
    public void Launch(string kernel, Native.Dim3 grid, Native.Dim3 block, void** args, uint* sizes, int count, bool checkOnly = false)
    {
        byte[] name = System.Text.Encoding.UTF8.GetBytes(kernel + "\0");
        int rc;
        fixed (byte* namePtr = name)
            rc = (checkOnly ? _checkLaunch : _launch)(namePtr, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, 0, args, (uint)count, sizes);
        if (rc != 0) throw new EmulatedLaunchException(kernel, (HostLaunchError)rc, LastErrorMessage());
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
