using BlurVae.Kernels.Device;
using BlurVae.Native;

namespace BlurVae.Kernels.Cuda;

/// <summary>
/// A stream capture made into a CUDA graph: the captured graph (cuStreamEndCapture) and its executable instance
/// (cuGraphInstantiateWithFlags, once), replayed with cuGraphLaunch on the device's stream. The instance is
/// destroyed before the graph it was made from.
/// </summary>
internal sealed class CudaGraph : DeviceGraph
{
    private nint _graph, _exec;

    public CudaGraph(CudaDevice device, GraphMemoryPool pool, long operations, nint graph, nint exec) : base(device, pool, operations)
    {
        _graph = graph;
        _exec = exec;
    }

    public nint Exec => _exec;

    protected override void DestroyCore()
    {
        if (_exec != 0) Driver.Check(Driver.cuGraphExecDestroy(_exec), "cuGraphExecDestroy");
        if (_graph != 0) Driver.Check(Driver.cuGraphDestroy(_graph), "cuGraphDestroy");
        _exec = _graph = 0;
    }
}
