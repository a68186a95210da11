using System.Reflection;
using System.Runtime.InteropServices;

namespace BlurVae.Native;

/// <summary>
/// Finds the CUDA libraries (and Open MPI and NCCL, searched the same way) by their versioned sonames. The CUDA toolkits install only versioned names on most
/// distributions (Debian ships libcufft.so.11 but no libcufft.so), so a plain DllImport("cufft") would fail
/// where the library is in fact present. Order: the newest soname first (the loader's own search), then
/// $BLURVAE_CUDA_LIBRARY_PATH (colon-separated), CUDA_PATH, /usr/local/cuda/lib64, every LD_LIBRARY_PATH entry, and
/// last the lib folders of NVIDIA's pip wheels (nvidia/*/lib under a Python environment's site-packages: $VIRTUAL_ENV,
/// /opt/*/.venv, /usr/local/lib/python3*/dist-packages, ~/.local), where a machine that has PyTorch but no CUDA
/// toolkit keeps cuBLAS, cuFFT and NVRTC.
/// </summary>
public static class NativeLibraries
{
    /// <summary>Logical names used in [LibraryImport] attributes of this assembly.</summary>
    public const string Cuda = "cuda";
    public const string Nvrtc = "nvrtc";
    public const string Cufft = "cufft";
    public const string Cublas = "cublas";
    /// <summary>Open MPI (libmpi.so.40; its handles are addresses of global symbols, see <see cref="Mpi"/>).</summary>
    public const string Mpi = "mpi";
    /// <summary>NCCL (libnccl.so.2: the CUDA toolkit's, a distribution's, or pip's nvidia-nccl-cu12 wheel).</summary>
    public const string Nccl = "nccl";

    private static readonly Dictionary<string, string[]> Sonames = new()
    {
        [Cuda] = ["libcuda.so.1", "libcuda.so"],
        [Cublas] = ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"],
        [Cufft] = ["libcufft.so.12", "libcufft.so.11", "libcufft.so.10", "libcufft.so"],
        [Nvrtc] = ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"],
        [Mpi] = ["libmpi.so.40"],
        [Nccl] = ["libnccl.so.2", "libnccl.so"],
    };

    private static readonly object Gate = new();
    private static readonly Dictionary<string, IntPtr> Loaded = new();
    private static bool _resolverInstalled;

    /// <summary>The sonames tried for a logical library, newest first.</summary>
    public static IReadOnlyList<string> CandidatesFor(string logicalName) =>
        Sonames.TryGetValue(logicalName, out var names)
            ? names
            : throw new ArgumentException($"Unknown native library '{logicalName}'.", nameof(logicalName));

    /// <summary>Every path tried for a logical library, in order: bare sonames (the loader's own search), then the directories.</summary>
    public static IEnumerable<string> SearchPaths(string logicalName) => SearchPaths(CandidatesFor(logicalName));

    /// <summary>The same order for any list of sonames (the tests use names that exist nowhere).</summary>
    internal static IEnumerable<string> SearchPaths(IReadOnlyList<string> names)
    {
        foreach (var name in names)
            yield return name;
        foreach (var dir in SearchDirectories())
            foreach (var name in names)
                yield return Path.Combine(dir, name);
    }

    /// <summary>Environment variable naming extra directories (colon-separated) searched before all others.</summary>
    public const string LibraryPathVariable = "BLURVAE_CUDA_LIBRARY_PATH";

    internal static IEnumerable<string> SearchDirectories()
    {
        var extra = Environment.GetEnvironmentVariable(LibraryPathVariable);
        if (!string.IsNullOrEmpty(extra))
            foreach (var dir in extra.Split(':', StringSplitOptions.RemoveEmptyEntries))
                yield return dir;
        var cudaPath = Environment.GetEnvironmentVariable("CUDA_PATH");
        if (!string.IsNullOrEmpty(cudaPath))
        {
            yield return Path.Combine(cudaPath, "lib64");
            yield return Path.Combine(cudaPath, "lib");
        }
        yield return "/usr/local/cuda/lib64";
        var ld = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
        if (!string.IsNullOrEmpty(ld))
            foreach (var dir in ld.Split(':', StringSplitOptions.RemoveEmptyEntries))
                yield return dir;
        foreach (var dir in PipWheelDirectories())
            yield return dir;
    }

    /// <summary>nvidia/&lt;package&gt;/lib of every Python environment found (pip's nvidia-cublas, -cufft, -cuda-nvrtc, cu13 wheels).</summary>
    private static IEnumerable<string> PipWheelDirectories()
    {
        var environments = new List<string>();
        var venv = Environment.GetEnvironmentVariable("VIRTUAL_ENV");
        if (!string.IsNullOrEmpty(venv)) environments.Add(venv);
        environments.AddRange(Children("/opt").Select(d => Path.Combine(d, ".venv")));
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrEmpty(home)) environments.Add(Path.Combine(home, ".local"));
        environments.Add("/usr/local");
        foreach (var env in environments)
            foreach (var python in Children(Path.Combine(env, "lib"), "python3*"))
                foreach (var packages in new[] { "site-packages", "dist-packages" })
                    foreach (var wheel in Children(Path.Combine(python, packages, "nvidia")))
                    {
                        var lib = Path.Combine(wheel, "lib");
                        if (Directory.Exists(lib)) yield return lib;
                    }
    }

    private static IEnumerable<string> Children(string directory, string pattern = "*")
    {
        try
        {
            return Directory.Exists(directory) ? Directory.GetDirectories(directory, pattern).Order(StringComparer.Ordinal).ToArray() : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Loads a logical library, or returns false with a message listing every path tried.</summary>
    public static bool TryLoad(string logicalName, out IntPtr handle, out string message)
    {
        var names = CandidatesFor(logicalName);
        lock (Gate)
        {
            if (Loaded.TryGetValue(logicalName, out handle))
            {
                message = "already loaded";
                return true;
            }
            if (!TryLoadAny(logicalName, names, out handle, out message)) return false;
            Loaded[logicalName] = handle;
            return true;
        }
    }

    /// <summary>
    /// Tries <see cref="SearchPaths(IReadOnlyList{string})"/> in order; on success the message is the path that
    /// loaded, otherwise it names every path tried so that a user can see where the library was looked for.
    /// </summary>
    internal static bool TryLoadAny(string label, IReadOnlyList<string> names, out IntPtr handle, out string message)
    {
        var tried = new List<string>();
        foreach (var path in SearchPaths(names))
        {
            tried.Add(path);
            if (NativeLibrary.TryLoad(path, out handle))
            {
                message = path;
                return true;
            }
        }
        handle = IntPtr.Zero;
        message = $"{label}: none of {string.Join(", ", names)} could be loaded; tried, in order: {string.Join(", ", tried)}";
        return false;
    }

    /// <summary>Installs the DllImport resolver for this assembly once; later calls do nothing.</summary>
    public static void InstallResolver()
    {
        lock (Gate)
        {
            if (_resolverInstalled) return;
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);
            _resolverInstalled = true;
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!Sonames.ContainsKey(libraryName)) return IntPtr.Zero;
        if (TryLoad(libraryName, out var handle, out var message)) return handle;
        throw new DllNotFoundException(message);
    }
}
