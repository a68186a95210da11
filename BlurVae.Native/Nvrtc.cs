using System.Runtime.InteropServices;

namespace BlurVae.Native;

/// <summary>
/// NVRTC, the runtime CUDA C++ → PTX compiler (libnvrtc). Programs are opaque pointers; every function returns an
/// nvrtcResult (0 = NVRTC_SUCCESS) whose name nvrtcGetErrorString gives.
/// </summary>
public static unsafe partial class Nvrtc
{
    public const string Library = "NVRTC";

    /// <summary>nvrtcResult NVRTC_ERROR_COMPILATION.</summary>
    public const int ErrorCompilation = 6;

    static Nvrtc() => NativeLibraries.InstallResolver();

    [LibraryImport(NativeLibraries.Nvrtc)] public static partial byte* nvrtcGetErrorString(int result);
    [LibraryImport(NativeLibraries.Nvrtc)] public static partial int nvrtcVersion(int* major, int* minor);
    [LibraryImport(NativeLibraries.Nvrtc)] public static partial int nvrtcGetNumSupportedArchs(int* count);
    [LibraryImport(NativeLibraries.Nvrtc)] public static partial int nvrtcGetSupportedArchs(int* architectures);
    [LibraryImport(NativeLibraries.Nvrtc)]
    public static partial int nvrtcCreateProgram(nint* program, byte* source, byte* name, int headerCount, byte** headers, byte** includeNames);
    [LibraryImport(NativeLibraries.Nvrtc)] public static partial int nvrtcCompileProgram(nint program, int optionCount, byte** options);
    [LibraryImport(NativeLibraries.Nvrtc)] public static partial int nvrtcGetPTXSize(nint program, nuint* size);
    [LibraryImport(NativeLibraries.Nvrtc)] public static partial int nvrtcGetPTX(nint program, byte* ptx);
    [LibraryImport(NativeLibraries.Nvrtc)] public static partial int nvrtcGetProgramLogSize(nint program, nuint* size);
    [LibraryImport(NativeLibraries.Nvrtc)] public static partial int nvrtcGetProgramLog(nint program, byte* log);
    [LibraryImport(NativeLibraries.Nvrtc)] public static partial int nvrtcDestroyProgram(nint* program);

    public static void Check(int status, string call, string? log = null)
    {
        if (status != 0) throw Failure(status, call, log);
    }

    public static CudaException Failure(int status, string call, string? log = null)
    {
        // NVRTC's only text for a result is its enum name ("NVRTC_ERROR_COMPILATION"), so it is both name and text.
        var text = nvrtcGetErrorString(status);
        var name = text != null ? Marshal.PtrToStringUTF8((nint)text)! : $"nvrtcResult {status}";
        return new CudaException(Library, status, name, name, call, log);
    }

    /// <summary>The NVRTC version, e.g. (11, 8).</summary>
    public static (int Major, int Minor) Version()
    {
        int major, minor;
        Check(nvrtcVersion(&major, &minor), "nvrtcVersion");
        return (major, minor);
    }

    /// <summary>The virtual architectures this NVRTC can target (e.g. 80 for compute_80), ascending.</summary>
    public static int[] SupportedArchitectures()
    {
        int count;
        Check(nvrtcGetNumSupportedArchs(&count), "nvrtcGetNumSupportedArchs");
        var archs = new int[count];
        fixed (int* p = archs)
            Check(nvrtcGetSupportedArchs(p), "nvrtcGetSupportedArchs");
        return archs;
    }
}
