using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using BlurVae.Native;

namespace BlurVae.Kernels.Cuda;

/// <summary>Where <see cref="PtxCache.Lookup"/> found the PTX: the text, its cache file, and whether it was already there.</summary>
public sealed record PtxCacheEntry(string Ptx, string FilePath, bool CacheHit);

/// <summary>
/// The embedded kernels.cu compiled to PTX for one compute capability, compiled by NVRTC on first use and kept on
/// disk keyed by the source hash, the NVRTC version and the architecture, so later runs skip the compile.
/// </summary>
public static class PtxCache
{
    /// <summary>Environment variable that overrides the cache directory.</summary>
    public const string DirectoryVariable = "BLURVAE_PTX_CACHE";

    // The file ends with a comment carrying the PTX's own hash, so a truncated or garbled file is detected and rebuilt.
    private const string TrailerPrefix = "// blurvae-ptx-sha256 ";

    /// <summary>The PTX of the embedded kernels for compute capability <paramref name="major"/>.<paramref name="minor"/>.</summary>
    public static string GetOrCompile(int major, int minor, string? cacheDirectory = null) =>
        Lookup(major, minor, cacheDirectory).Ptx;

    /// <summary>
    /// As <see cref="GetOrCompile"/>, also saying which file holds the PTX and whether it came from the cache.
    /// A compile error throws NVRTC's <see cref="CudaException"/> with its log.
    /// </summary>
    public static PtxCacheEntry Lookup(int major, int minor, string? cacheDirectory = null)
    {
        var architecture = Architecture(major, minor);
        var source = KernelSource.Embedded;
        var (nvrtcMajor, nvrtcMinor) = Nvrtc.Version();
        var directory = cacheDirectory ?? DefaultDirectory();
        var path = Path.Combine(directory, $"kernels-{source.Sha256}-nvrtc{nvrtcMajor}.{nvrtcMinor}-compute_{architecture}.ptx");

        if (TryRead(path) is { } cached) return new PtxCacheEntry(cached, path, CacheHit: true);

        var supported = Nvrtc.SupportedArchitectures();
        if (!supported.Contains(architecture))
            throw new ArgumentOutOfRangeException(nameof(major),
                $"NVRTC {nvrtcMajor}.{nvrtcMinor} cannot target compute_{architecture} (compute capability {major}.{minor}); it supports {string.Join(", ", supported)}.");
        string[] options = [$"--gpu-architecture=compute_{architecture}", "-default-device", "--std=c++17"];
        var (ptx, _) = NvrtcCompiler.Compile(source.Main, KernelSource.MainName, options, source.Headers);
        Write(directory, path, ptx);
        return new PtxCacheEntry(ptx, path, CacheHit: false);
    }

    /// <summary>$BLURVAE_PTX_CACHE, else $XDG_CACHE_HOME/blurvae/ptx, else ~/.cache/blurvae/ptx.</summary>
    public static string DefaultDirectory()
    {
        var overridden = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrEmpty(overridden)) return overridden;
        // The XDG spec says a relative XDG_CACHE_HOME is invalid and to be ignored.
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "blurvae", "ptx");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var root = string.IsNullOrEmpty(home) ? Path.GetTempPath() : Path.Combine(home, ".cache");
        return Path.Combine(root, "blurvae", "ptx");
    }

    private static int Architecture(int major, int minor)
    {
        if (major is < 1 or > 99) throw new ArgumentOutOfRangeException(nameof(major), major, "A compute capability's major version is 1..99.");
        if (minor is < 0 or > 9) throw new ArgumentOutOfRangeException(nameof(minor), minor, "A compute capability's minor version is 0..9.");
        return major * 10 + minor;
    }

    private static string? TryRead(string path)
    {
        string text;
        try { text = File.ReadAllText(path, Encoding.UTF8); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        var trailer = text.LastIndexOf(TrailerPrefix, StringComparison.Ordinal);
        if (trailer <= 0) return null;
        var ptx = text[..trailer];
        return text[(trailer + TrailerPrefix.Length)..].Trim() == HashOf(ptx) ? ptx : null;
    }

    // Temp file + rename: readers (other processes included) see either no file or a whole one.
    private static void Write(string directory, string path, string ptx)
    {
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(temp, ptx + TrailerPrefix + HashOf(ptx) + "\n", new UTF8Encoding(false));
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The cache only saves time: an unwritable directory costs a compile per run, not the run.
            Trace.TraceWarning($"PTX cache: cannot write {path}: {e.Message}");
            try { File.Delete(temp); } catch (Exception) { /* best effort */ }
        }
    }

    private static string HashOf(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
