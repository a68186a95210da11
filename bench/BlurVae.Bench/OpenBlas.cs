// OpenBlas.cs - minimal binding to OpenBLAS's cblas_sgemm / cblas_dgemm, used only to benchmark and cross-check
// BlurVae.Kernels.Cpu.Gemm. The library is loaded at run time with NativeLibrary (Debian: libopenblas0-pthread,
// soname libopenblas.so.0, installed under /usr/lib/x86_64-linux-gnu/openblas-pthread/ and exposed through the
// alternatives symlink /usr/lib/x86_64-linux-gnu/libopenblas.so.0). Entry points are resolved with
// NativeLibrary.GetExport and called through unmanaged function pointers, which avoids registering an
// assembly-wide DllImport resolver (there can only be one per assembly) and costs nothing per call.

using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BlurVae.Bench;

/// <summary>Row-major wrappers over OpenBLAS cblas_?gemm with the same signature as BlurVae's Gemm.</summary>
public static unsafe class OpenBlas
{
    private const int CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112;

    // Tried in order: the soname (found through the loader cache), the Debian alternatives path, the pthread
    // variant directly, then the openmp / serial variants and the unversioned dev symlink.
    private static readonly string[] Candidates =
    {
        "libopenblas.so.0",
        "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
        "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
        "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
        "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0",
        "/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas.so.0",
        "libopenblas.so",
        "libopenblas",
    };

    private static readonly object Gate = new();
    private static bool s_attempted;
    private static string s_message = "OpenBLAS has not been loaded.";

    private static delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> s_sgemm;
    private static delegate* unmanaged[Cdecl]<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void> s_dgemm;
    private static delegate* unmanaged[Cdecl]<int, void> s_setNumThreads;
    private static delegate* unmanaged[Cdecl]<int> s_getNumThreads;
    private static delegate* unmanaged[Cdecl]<byte*> s_getCoreName;
    private static delegate* unmanaged[Cdecl]<byte*> s_getConfig;

    /// <summary>True once <see cref="TryLoad"/> has succeeded.</summary>
    public static bool IsLoaded => s_sgemm != null;

    /// <summary>The file the library was loaded from (or the name that resolved), when loaded.</summary>
    public static string? LoadedFrom { get; private set; }

    /// <summary>Loads OpenBLAS (once). On failure <paramref name="message"/> says what was tried and how to install it.</summary>
    public static bool TryLoad(out string message)
    {
        lock (Gate)
        {
            if (!s_attempted)
            {
                s_attempted = true;
                Load();
            }

            message = s_message;
            return IsLoaded;
        }
    }

    private static void Load()
    {
        foreach (string candidate in Candidates)
        {
            if (!NativeLibrary.TryLoad(candidate, out nint handle)) continue;
            if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out nint sgemm) ||
                !NativeLibrary.TryGetExport(handle, "cblas_dgemm", out nint dgemm))
            {
                NativeLibrary.Free(handle);
                continue;
            }

            s_sgemm = (delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
            s_dgemm = (delegate* unmanaged[Cdecl]<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void>)dgemm;
            if (NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out nint p)) s_setNumThreads = (delegate* unmanaged[Cdecl]<int, void>)p;
            if (NativeLibrary.TryGetExport(handle, "openblas_get_num_threads", out p)) s_getNumThreads = (delegate* unmanaged[Cdecl]<int>)p;
            if (NativeLibrary.TryGetExport(handle, "openblas_get_corename", out p)) s_getCoreName = (delegate* unmanaged[Cdecl]<byte*>)p;
            if (NativeLibrary.TryGetExport(handle, "openblas_get_config", out p)) s_getConfig = (delegate* unmanaged[Cdecl]<byte*>)p;
            LoadedFrom = candidate;
            s_message = $"OpenBLAS loaded from '{candidate}' ({Config ?? "unknown config"}, core {CoreName ?? "unknown"}).";
            return;
        }

        s_message = "OpenBLAS not found (tried " + string.Join(", ", Candidates) +
                    "). Install it with: apt-get install -y libopenblas0-pthread";
    }

    /// <summary>OpenBLAS build configuration string, if available.</summary>
    public static string? Config => s_getConfig == null ? null : Marshal.PtrToStringUTF8((nint)s_getConfig());

    /// <summary>Name of the kernel set OpenBLAS picked for this CPU (e.g. "Haswell", "SkylakeX", "Zen").</summary>
    public static string? CoreName => s_getCoreName == null ? null : Marshal.PtrToStringUTF8((nint)s_getCoreName());

    /// <summary>Sets OpenBLAS's worker-thread count (process-wide).</summary>
    public static void SetNumThreads(int threads)
    {
        EnsureLoaded();
        if (s_setNumThreads != null) s_setNumThreads(Math.Max(1, threads));
    }

    /// <summary>OpenBLAS's current worker-thread count, or -1 if the library does not export it.</summary>
    public static int GetNumThreads()
    {
        EnsureLoaded();
        return s_getNumThreads == null ? -1 : s_getNumThreads();
    }

    /// <summary>Row-major C = alpha*op(A)*op(B) + beta*C via cblas_sgemm (same argument meaning as Gemm.Sgemm).</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc) =>
        Call(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    /// <summary>Row-major C = alpha*op(A)*op(B) + beta*C via cblas_dgemm (same argument meaning as Gemm.Dgemm).</summary>
    public static void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc) =>
        Call(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    // Both precisions: the arguments checked, the spans pinned, and cblas_sgemm or cblas_dgemm by the element type.
    private static void Call<T>(bool transA, bool transB, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc) where T : unmanaged
    {
        EnsureLoaded();
        CheckArgs(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        int ta = transA ? CblasTrans : CblasNoTrans, tb = transB ? CblasTrans : CblasNoTrans;
        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (T* pc = c)
        {
            if (typeof(T) == typeof(float))
                s_sgemm(CblasRowMajor, ta, tb, m, n, k, Unsafe.As<T, float>(ref alpha), (float*)pa, lda, (float*)pb, ldb, Unsafe.As<T, float>(ref beta), (float*)pc, ldc);
            else
                s_dgemm(CblasRowMajor, ta, tb, m, n, k, Unsafe.As<T, double>(ref alpha), (double*)pa, lda, (double*)pb, ldb, Unsafe.As<T, double>(ref beta), (double*)pc, ldc);
        }
    }

    private static void EnsureLoaded()
    {
        if (!TryLoad(out string message)) throw new DllNotFoundException(message);
    }

    // OpenBLAS reads raw pointers, so a short span would be a buffer overrun rather than an exception: check first.
    private static void CheckArgs(bool transA, bool transB, int m, int n, int k, int aLength, int lda, int bLength, int ldb,
        int cLength, int ldc)
    {
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m));
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n));
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k));
        Check(transA ? k : m, transA ? m : k, aLength, lda, "a");
        Check(transB ? n : k, transB ? k : n, bLength, ldb, "b");
        Check(m, n, cLength, ldc, "c");

        static void Check(int rows, int cols, int length, int ld, string name)
        {
            if (ld < Math.Max(1, cols)) throw new ArgumentOutOfRangeException("ld" + name, ld, $"ld{name} must be >= max(1, {cols}).");
            if (rows > 0 && cols > 0 && length < (long)(rows - 1) * ld + cols)
                throw new ArgumentException($"{name} is too short for a {rows} x {cols} matrix with leading dimension {ld}.", name);
        }
    }
}
