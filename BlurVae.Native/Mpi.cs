using System.Runtime.InteropServices;
using System.Text;

namespace BlurVae.Native;

/// <summary>
/// Open MPI (libmpi.so.40, the soname of Open MPI 3.x–5.x; MPICH's libmpi.so.12 has another ABI and is not used).
/// Open MPI's handles are not integers but the addresses of predefined global objects (mpi.h defines MPI_COMM_WORLD
/// as &amp;ompi_mpi_comm_world, MPI_FLOAT as &amp;ompi_mpi_float, MPI_SUM as &amp;ompi_mpi_op_sum), so
/// <see cref="Handles"/> looks those symbols up in the loaded library. The library is promoted to RTLD_GLOBAL before
/// MPI_Init (as mpi4py does): Open MPI dlopens its own components, which expect libmpi's symbols to be global.
/// Every call's status is checked after MPI_ERRORS_RETURN replaced the default abort-on-error handler.
/// </summary>
public static unsafe partial class Mpi
{
    public const string Library = "MPI";

    /// <summary>MPI_THREAD_MULTIPLE of Open MPI's mpi.h (SINGLE 0, FUNNELED 1, SERIALIZED 2, MULTIPLE 3): the watchdog thread calls MPI_Abort.</summary>
    public const int ThreadMultiple = 3;

    /// <summary>MPI_IN_PLACE of Open MPI's mpi.h: ((void *) 1).</summary>
    public static readonly void* InPlace = (void*)1;

    private const int MaxErrorString = 256;

    static Mpi() => NativeLibraries.InstallResolver();

    [LibraryImport(NativeLibraries.Mpi)] public static partial int MPI_Init_thread(int* argc, byte*** argv, int required, int* provided);
    [LibraryImport(NativeLibraries.Mpi)] public static partial int MPI_Initialized(int* flag);
    [LibraryImport(NativeLibraries.Mpi)] public static partial int MPI_Finalized(int* flag);
    [LibraryImport(NativeLibraries.Mpi)] public static partial int MPI_Comm_rank(nint comm, int* rank);
    [LibraryImport(NativeLibraries.Mpi)] public static partial int MPI_Comm_size(nint comm, int* size);
    [LibraryImport(NativeLibraries.Mpi)] public static partial int MPI_Comm_set_errhandler(nint comm, nint errhandler);
    [LibraryImport(NativeLibraries.Mpi)] public static partial int MPI_Allreduce(void* sendBuffer, void* receiveBuffer, int count, nint datatype, nint op, nint comm);
    [LibraryImport(NativeLibraries.Mpi)] public static partial int MPI_Bcast(void* buffer, int count, nint datatype, int root, nint comm);
    [LibraryImport(NativeLibraries.Mpi)] public static partial int MPI_Barrier(nint comm);
    [LibraryImport(NativeLibraries.Mpi)] public static partial int MPI_Abort(nint comm, int errorCode);
    [LibraryImport(NativeLibraries.Mpi)] public static partial int MPI_Finalize();
    [LibraryImport(NativeLibraries.Mpi)] public static partial int MPI_Error_string(int errorCode, byte* text, int* length);

    /// <summary>The predefined handles of Open MPI: addresses of its global objects.</summary>
    public sealed record HandleSet(nint CommWorld, nint Float, nint Double, nint Byte, nint Sum, nint ErrorsReturn);

    private static HandleSet? _handles;

    /// <summary>Loads libmpi (RTLD_GLOBAL) and resolves the predefined handles; throws <see cref="DllNotFoundException"/> naming every path tried.</summary>
    public static HandleSet Handles
    {
        get
        {
            if (_handles is not null) return _handles;
            if (!NativeLibraries.TryLoad(NativeLibraries.Mpi, out var library, out var where))
                throw new DllNotFoundException(where + ". Install Open MPI (Debian: apt-get install openmpi-bin libopenmpi3).");
            // The handle NativeLibraries got is RTLD_LOCAL; reopening the same file with RTLD_GLOBAL promotes it.
            if (where != "already loaded" && Dl.dlopen(where, Dl.RtldNow | Dl.RtldGlobal) == 0)
                throw new DllNotFoundException($"{Library}: dlopen({where}, RTLD_GLOBAL) failed: {Dl.LastError()}");
            nint Symbol(string name) => NativeLibrary.TryGetExport(library, name, out var address)
                ? address
                : throw new EntryPointNotFoundException($"{Library}: '{where}' has no symbol {name}; libmpi.so.40 is expected to be Open MPI.");
            return _handles = new HandleSet(Symbol("ompi_mpi_comm_world"), Symbol("ompi_mpi_float"), Symbol("ompi_mpi_double"),
                Symbol("ompi_mpi_byte"), Symbol("ompi_mpi_op_sum"), Symbol("ompi_mpi_errors_return"));
        }
    }

    /// <summary>MPI_Error_string of a status, or the number when the library cannot describe it.</summary>
    public static string ErrorText(int code)
    {
        byte* text = stackalloc byte[MaxErrorString];
        int length = 0;
        if (MPI_Error_string(code, text, &length) != 0 || length <= 0) return $"MPI error {code}";
        return Encoding.ASCII.GetString(text, Math.Min(length, MaxErrorString));
    }

    public static void Check(int status, string call)
    {
        if (status != 0) throw new MpiException(status, ErrorText(status), call);
    }

    /// <summary>dlopen from libdl (a stub of libc since glibc 2.34, still present), for RTLD_GLOBAL.</summary>
    private static partial class Dl
    {
        public const int RtldNow = 0x2, RtldGlobal = 0x100;

        [LibraryImport("libdl.so.2", StringMarshalling = StringMarshalling.Utf8)] public static partial nint dlopen(string file, int mode);
        [LibraryImport("libdl.so.2")] private static partial nint dlerror();

        public static string LastError() => Marshal.PtrToStringUTF8(dlerror()) ?? "unknown error";
    }
}

/// <summary>A non-success status of an MPI call, with MPI_Error_string's text.</summary>
public sealed class MpiException(int status, string text, string call)
    : Exception($"{Mpi.Library}: {call} failed with error {status}: {text}")
{
    public int Status { get; } = status;
    public string Call { get; } = call;
}
