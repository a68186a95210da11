namespace BlurVae.Kernels.Device;

/// <summary>
/// What a <see cref="GpuDevice"/> has queued on its stream and how often it made the host wait, counted since the
/// device was created (<see cref="GpuDevice.Counts"/>); <see cref="Minus"/> gives the counts of an interval, such as
/// one training step after warm-up. Every counter is incremented in one place, GpuDevice's own entry points, so the
/// CUDA, emulated and recording devices count the same operations.
/// </summary>
public sealed record DeviceCounts
{
    /// <summary>Kernel launches (cuLaunchKernel), all kernels together.</summary>
    public long Launches { get; init; }

    /// <summary>Launches per kernel name.</summary>
    public IReadOnlyDictionary<string, long> LaunchesByKernel { get; init; } = new Dictionary<string, long>();

    /// <summary>cuBLAS calls (one SGEMM or strided-batched SGEMM each).</summary>
    public long CublasCalls { get; init; }

    /// <summary>cuFFT executions (R2C or C2R).</summary>
    public long CufftCalls { get; init; }

    /// <summary>cuMemsetD32Async: the zero-fill of every <see cref="GpuDevice.Allocate"/> and every Fill.</summary>
    public long Memsets { get; init; }

    /// <summary>Device-to-device copies (cuMemcpyDtoDAsync).</summary>
    public long CopiesDeviceToDevice { get; init; }

    /// <summary>Host-to-device copies (uploads: asynchronous, from pinned staging memory, so not a host sync).</summary>
    public long CopiesHostToDevice { get; init; }

    /// <summary>Device-to-host copies (downloads, Item(); each waits for the stream, so each is also a host sync).</summary>
    public long CopiesDeviceToHost { get; init; }

    /// <summary>
    /// Times the host waited for the device: every download, every explicit
    /// <see cref="GpuDevice.Synchronize"/>, and the device's own waits (cache release, timing events, debug sync).
    /// </summary>
    public long HostSyncs { get; init; }

    /// <summary>Real device allocations (cuMemAlloc), not blocks the caching allocator handed out again.</summary>
    public long Allocations { get; init; }

    /// <summary>Buffers requested from <see cref="GpuDevice.Allocate"/>, cache hits included.</summary>
    public long BufferRequests { get; init; }

    /// <summary>Captured graphs launched (cuGraphLaunch): a replayed training step is one.</summary>
    public long GraphLaunches { get; init; }

    /// <summary>The stream operations inside the launched graphs (not in <see cref="StreamOperations"/>).</summary>
    public long GraphOperations { get; init; }

    public long Copies => CopiesDeviceToDevice + CopiesHostToDevice + CopiesDeviceToHost;

    /// <summary>
    /// Everything the host queued on the stream one by one (eagerly): launches, cuBLAS and cuFFT calls, memsets and
    /// copies. Operations inside a replayed graph are counted in <see cref="GraphOperations"/> instead.
    /// </summary>
    public long StreamOperations => Launches + CublasCalls + CufftCalls + Memsets + Copies;

    /// <summary>These counts less <paramref name="earlier"/>'s: what happened between the two snapshots.</summary>
    public DeviceCounts Minus(DeviceCounts earlier)
    {
        var byKernel = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (kernel, n) in LaunchesByKernel)
        {
            long d = n - earlier.LaunchesByKernel.GetValueOrDefault(kernel);
            if (d != 0) byKernel[kernel] = d;
        }
        return new DeviceCounts
        {
            Launches = Launches - earlier.Launches,
            LaunchesByKernel = byKernel,
            CublasCalls = CublasCalls - earlier.CublasCalls,
            CufftCalls = CufftCalls - earlier.CufftCalls,
            Memsets = Memsets - earlier.Memsets,
            CopiesDeviceToDevice = CopiesDeviceToDevice - earlier.CopiesDeviceToDevice,
            CopiesHostToDevice = CopiesHostToDevice - earlier.CopiesHostToDevice,
            CopiesDeviceToHost = CopiesDeviceToHost - earlier.CopiesDeviceToHost,
            HostSyncs = HostSyncs - earlier.HostSyncs,
            Allocations = Allocations - earlier.Allocations,
            BufferRequests = BufferRequests - earlier.BufferRequests,
            GraphLaunches = GraphLaunches - earlier.GraphLaunches,
            GraphOperations = GraphOperations - earlier.GraphOperations,
        };
    }
}
