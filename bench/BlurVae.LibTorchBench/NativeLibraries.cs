using System.Runtime.InteropServices;

namespace BlurVae.LibTorchBench;

/// <summary>
/// Loads libtorch 2.10 and TorchSharp's wrapper from bin/…/libtorch-native/, the folder tools/libtorch-bench.sh fills
/// (the build copies no native library: the csproj excludes them). The wrapper there is a patched copy: TorchSharp
/// 0.107's libLibTorchSharp.so asks for GLIBCXX_3.4.32 (GCC 13) for one function, std::ios_base_library_init(), which
/// Debian 12's libstdc++ (3.4.30) lacks; the copy takes that function from libglibcxx32shim.so instead (native/). Once
/// the wrapper is loaded by path, TorchSharp's own load by name finds it (and libtorch_cpu.so) already loaded by soname,
/// so it never falls back to copying the packages' unpatched libraries into bin/…/cpu.
/// </summary>
public static class NativeLibraries
{
    public const string Folder = "libtorch-native";
    public const string Wrapper = "libLibTorchSharp.so";
    public const string SetupScript = "tools/libtorch-bench.sh";

    /// <summary>Loads the wrapper (and with it libtorch): null, or what is wrong and the fix.</summary>
    public static string? Load()
    {
        string path = Path.Combine(AppContext.BaseDirectory, Folder, Wrapper);
        if (!File.Exists(path))
            return $"{path} is missing: run {SetupScript} (it builds this benchmark and prepares libtorch's native libraries).";
        try
        {
            NativeLibrary.Load(path);
            return null;
        }
        catch (DllNotFoundException e)
        {
            return $"could not load {path} ({e.Message.Trim()}); rerun {SetupScript} to prepare it again.";
        }
    }
}
