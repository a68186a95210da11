namespace BlurVae.Kernels.Device;

/// <summary>
/// The running totals behind <see cref="GpuDevice.Counts"/>. One lock guards them: a count costs far less than the
/// stream operation it counts, and finalizer threads may free (never launch) concurrently.
/// </summary>
internal sealed class StreamCounter
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _launchesByKernel = new(StringComparer.Ordinal);
    private long _launches, _cublas, _cufft, _memsets, _d2d, _h2d, _d2h, _syncs, _allocations, _requests, _graphLaunches, _graphOperations;

    public void Launch(string kernel)
    {
        lock (_lock)
        {
            _launches++;
            _launchesByKernel[kernel] = _launchesByKernel.GetValueOrDefault(kernel) + 1;
        }
    }

    public void Cublas() { lock (_lock) _cublas++; }
    public void Cufft() { lock (_lock) _cufft++; }
    public void Memset() { lock (_lock) _memsets++; }
    public void CopyDeviceToDevice() { lock (_lock) _d2d++; }
    public void CopyHostToDevice() { lock (_lock) _h2d++; }
    public void CopyDeviceToHost() { lock (_lock) _d2h++; }
    public void HostSync() { lock (_lock) _syncs++; }
    public void Allocation() { lock (_lock) _allocations++; }
    public void BufferRequest() { lock (_lock) _requests++; }

    public void GraphLaunch(long operations)
    {
        lock (_lock)
        {
            _graphLaunches++;
            _graphOperations += operations;
        }
    }

    public DeviceCounts Snapshot()
    {
        lock (_lock)
            return new DeviceCounts
            {
                Launches = _launches,
                LaunchesByKernel = new Dictionary<string, long>(_launchesByKernel, StringComparer.Ordinal),
                CublasCalls = _cublas,
                CufftCalls = _cufft,
                Memsets = _memsets,
                CopiesDeviceToDevice = _d2d,
                CopiesHostToDevice = _h2d,
                CopiesDeviceToHost = _d2h,
                HostSyncs = _syncs,
                Allocations = _allocations,
                BufferRequests = _requests,
                GraphLaunches = _graphLaunches,
                GraphOperations = _graphOperations,
            };
    }
}
