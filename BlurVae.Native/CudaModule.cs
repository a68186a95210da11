using System.Text;

namespace BlurVae.Native;

/// <summary>A loaded PTX module (cuModuleLoadDataEx / cuModuleUnload).</summary>
public sealed unsafe class CudaModule : NativeHandle
{
    private const int LogBytes = 16 * 1024;

    private CudaModule(nint handle) : base(handle) { }

    /// <summary>JIT-compiles <paramref name="ptx"/> for the current context's device; a failure carries the JIT's error log.</summary>
    public static CudaModule Load(string ptx)
    {
        ArgumentException.ThrowIfNullOrEmpty(ptx);
        var image = new byte[Encoding.UTF8.GetByteCount(ptx) + 1];
        Encoding.UTF8.GetBytes(ptx, image);
        var errorLog = new byte[LogBytes];
        var options = stackalloc int[2] { Driver.JitErrorLogBuffer, Driver.JitErrorLogBufferSizeBytes };
        nint handle;
        int status;
        fixed (byte* i = image, e = errorLog)
        {
            // Option values are passed as pointer-sized words: the buffer's address, then its size.
            var values = stackalloc void*[2] { e, (void*)LogBytes };
            status = Driver.cuModuleLoadDataEx(&handle, i, 2, options, values);
        }
        if (status != 0)
        {
            var end = Array.IndexOf(errorLog, (byte)0);
            throw Driver.Failure(status, "cuModuleLoadDataEx", Encoding.UTF8.GetString(errorLog, 0, end < 0 ? LogBytes : end));
        }
        return new CudaModule(handle);
    }

    public CudaFunction GetFunction(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Handle == 0) throw new ObjectDisposedException(nameof(CudaModule));
        var bytes = new byte[Encoding.UTF8.GetByteCount(name) + 1];
        Encoding.UTF8.GetBytes(name, bytes);
        nint function;
        fixed (byte* n = bytes)
            Driver.Check(Driver.cuModuleGetFunction(&function, Handle, n), $"cuModuleGetFunction({name})");
        return new CudaFunction(function, name);
    }

    protected override void Destroy(nint handle) => Driver.Check(Driver.cuModuleUnload(handle), "cuModuleUnload");
}

/// <summary>Grid or block dimensions.</summary>
public readonly record struct Dim3(uint X, uint Y = 1, uint Z = 1);

/// <summary>A kernel of a loaded module; valid while the module is.</summary>
public readonly unsafe record struct CudaFunction(nint Handle, string Name)
{
    /// <summary>
    /// Launches the kernel. <paramref name="arguments"/> points to one pointer per kernel parameter, each to that
    /// parameter's value (cuLaunchKernel's convention); callers build it on the stack so a launch allocates nothing.
    /// </summary>
    /// <summary>
    /// The most threads per block this function can be launched with on its device (cuFuncGetAttribute
    /// MAX_THREADS_PER_BLOCK: below 1024 when its registers per thread do not fit), and its registers per thread.
    /// </summary>
    public (int MaxThreadsPerBlock, int Registers) Limits()
    {
        int maxThreads, registers;
        Driver.Check(Driver.cuFuncGetAttribute(&maxThreads, Driver.FuncAttributeMaxThreadsPerBlock, Handle), $"cuFuncGetAttribute({Name}, MAX_THREADS_PER_BLOCK)");
        Driver.Check(Driver.cuFuncGetAttribute(&registers, Driver.FuncAttributeNumRegs, Handle), $"cuFuncGetAttribute({Name}, NUM_REGS)");
        return (maxThreads, registers);
    }

    public void Launch(Dim3 grid, Dim3 block, uint sharedMemoryBytes, CudaStream? stream, void** arguments) =>
        Driver.Check(Driver.cuLaunchKernel(Handle, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, sharedMemoryBytes,
            stream?.Handle ?? 0, arguments, null), Name);
}
